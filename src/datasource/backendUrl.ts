/** What is wrong with a backend URL for the datasource's routes (`{{ .JsonData.url }}/api/...`), if anything. */
export function urlProblem(url: string | undefined): string | undefined {
  if (!url) {
    return 'Required: the Scorpio backend URL as the Grafana server reaches it, e.g. http://lad-backend:8080';
  }
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      return 'Use an http:// or https:// URL';
    }
    // The plugin.json routes append /api/... to this text ({{ .JsonData.url }}/api/health); Grafana's data proxy
    // sends the result as it stands (pkg/api/pluginproxy/utils.go ApplyRoute), so "http://b:8080/" asks the
    // backend for //api/health (404) and "?x=1" or "#x" land in the middle of the URL.
    if (parsed.search || parsed.hash || url.includes('?') || url.includes('#')) {
      return 'Leave out ?query and #fragment: Grafana appends /api/... to this URL';
    }
    if (url.endsWith('/')) {
      return 'Remove the trailing slash: Grafana appends /api/... to this URL, and the backend answers 404 to //api/...';
    }
  } catch {
    return 'Not a URL: write it like http://lad-backend:8080';
  }
  return undefined;
}
