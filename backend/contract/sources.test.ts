import { ALL_SOURCES, ALL_SOURCES_VALUE, isAllSources, selectedSources } from './sources';

describe('"All sources", the one definition the backend and the plugin share', () => {
  it('reads every spelling Grafana and the query editor send as all sources', () => {
    for (const all of [undefined, '', ' ', '*', '$__all', 'All', 'all', '{a,*}', ['a', '$__all']]) {
      expect({ all, names: selectedSources(all) }).toEqual({ all, names: undefined });
    }
    expect(isAllSources(ALL_SOURCES_VALUE)).toBe(true);
    expect(ALL_SOURCES).toContain('$__all');
  });

  it('reads one name, a list and the {a,b} multi-value form; a plain string is one name (names may hold commas)', () => {
    expect(selectedSources('web')).toEqual(['web']);
    expect(selectedSources(['web', ' auth '])).toEqual(['web', 'auth']);
    expect(selectedSources('{web,auth}')).toEqual(['web', 'auth']);
    expect(selectedSources('a,b')).toEqual(['a,b']);
    expect(isAllSources('allow')).toBe(false);
  });
});
