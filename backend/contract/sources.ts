/**
 * "All sources", defined once for the backend and the plugin: a target whose source is missing, or names any of
 * these, asks for every source. Grafana sends `$__all` (an "All" option without a custom value), `*` (a custom
 * all value) or the option's label; the plugin's query editor stores ''.
 */
export const ALL_SOURCES: readonly string[] = ['', '*', '$__all', 'All', 'all'];

/** What the query editor stores for "All sources". */
export const ALL_SOURCES_VALUE = '';

export function isAllSources(name: string): boolean {
  return ALL_SOURCES.includes(name.trim());
}

/**
 * A target's source filter as names; undefined = all sources. Accepts one name, a list, or Grafana's `{a,b}`
 * multi-value form. A plain string is one name: source names may contain commas (backend/sources/source-name.ts).
 */
export function selectedSources(source: string | readonly string[] | undefined): string[] | undefined {
  if (source === undefined) {
    return undefined;
  }
  let names: readonly string[] = typeof source === 'string' ? [source] : source;
  if (typeof source === 'string') {
    const multi = /^\{(.*)\}$/.exec(source);
    if (multi) {
      names = multi[1].split(',');
    }
  }
  const trimmed = names.map((n) => n.trim());
  return trimmed.some(isAllSources) ? undefined : trimmed;
}
