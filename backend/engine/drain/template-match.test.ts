import { TemplateSet, templatesOverlap } from './template-match';
import { splitTemplate } from './tokens';

describe('template overlap (how feedback survives templates that widen or are mined afresh)', () => {
  it('lets a wildcard on either side take any word, and nothing else', () => {
    const t = splitTemplate;
    expect(templatesOverlap(t('disk sda failed'), t('disk <*> failed'))).toBe(true);
    expect(templatesOverlap(t('disk <*> failed'), t('disk sdb failed'))).toBe(true);
    expect(templatesOverlap(t('disk sda failed'), t('disk sdb failed'))).toBe(false);
    expect(templatesOverlap(t('disk sda failed'), t('disk sda failed again'))).toBe(false);
    // a bracket group is one token, so it lines up with a wildcard
    expect(templatesOverlap(t('INFO [req-<ID> - - - - -] GET'), t('INFO <*> GET'))).toBe(true);
  });

  it('TemplateSet answers exact texts and overlaps, and forgets a template only when its last record goes', () => {
    const set = new TemplateSet();
    set.add('host <*> unreachable');
    set.add('host <*> unreachable');
    expect(set.covers('host dn228 unreachable')).toBe(true);
    expect(set.covers('host dn228 reachable')).toBe(false);
    set.delete('host <*> unreachable');
    expect(set.covers('host dn228 unreachable')).toBe(true);
    set.delete('host <*> unreachable');
    expect(set.covers('host dn228 unreachable')).toBe(false);
    expect(set.size).toBe(0);
  });
});
