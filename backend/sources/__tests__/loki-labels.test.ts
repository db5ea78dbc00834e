import { LabelParseError, parseLabelString } from '../loki-labels';

describe('parseLabelString (Loki stream selector with = matchers)', () => {
  it.each([
    ['{}', {}],
    ['  { }  ', {}],
    ['{job="api"}', { job: 'api' }],
    ['{job="api",source="web"}', { job: 'api', source: 'web' }],
    ['{ job = "api" ,\n source="web", }', { job: 'api', source: 'web' }],
    ['{a="quote \\" backslash \\\\ newline \\n tab \\t"}', { a: 'quote " backslash \\ newline \n tab \t' }],
    ['{a="\\u00e9\\U0001F600\\x41\\101"}', { a: 'é😀AA' }],
    ["{a='single \\' quoted'}", { a: "single ' quoted" }],
    ['{a=`raw \\n stays`}', { a: 'raw \\n stays' }],
    ['{_under_score9="", b="comma, inside {braces}"}', { _under_score9: '', b: 'comma, inside {braces}' }],
  ])('%s', (text, expected) => {
    expect(parseLabelString(text)).toEqual(expected);
  });

  it.each([
    ['', /'\{'/],
    ['job="api"', /'\{'/],
    ['{job="api"', /',' or '\}'/],
    ['{job="api}', /unterminated/],
    ['{9job="x"}', /label name/],
    ['{job=~"x"}', /equality/],
    ['{job!="x"}', /'='/],
    ['{job=api}', /quoted/],
    ['{a="x" b="y"}', /',' or '\}'/],
    ['{a="x", a="y"}', /duplicate/],
    ['{a="bad \\q escape"}', /unknown escape/],
    ['{a="\\xff"}', /non-ASCII/],
    ['{a="\\uD800"}', /code point/],
    ['{a="x"} trailing', /after/],
  ])('rejects %s', (text, message) => {
    expect(() => parseLabelString(text)).toThrow(LabelParseError);
    expect(() => parseLabelString(text)).toThrow(message);
  });
});
