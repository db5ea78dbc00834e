import fs from 'fs';
import path from 'path';
import { parse } from 'yaml';

// How Grafana 12.4 reads the provisioning files, checked against its source (no Grafana server runs here).

const root = path.resolve(__dirname, '..');
const yaml = (p: string) => parse(fs.readFileSync(path.join(root, p), 'utf8'));

interface Provider {
  folder?: string;
  folderUid?: string;
  options: { foldersFromFilesStructure?: boolean };
}
interface AlertingFile {
  groups?: Array<{ folder: string; name: string; rules: Array<{ uid: string; title: string; labels?: Record<string, string> }> }>;
}

const providers = (yaml('provisioning/dashboards/dashboards.yaml') as { providers: Provider[] }).providers;
const alertingFiles = fs
  .readdirSync(path.join(root, 'provisioning/alerting'))
  .filter((f) => /\.ya?ml$/.test(f))
  .map((f) => yaml(path.join('provisioning/alerting', f)) as AlertingFile);
const groups = alertingFiles.flatMap((f) => f.groups ?? []);

describe('provisioning puts the dashboards and the alert rule in one folder', () => {
  it('every dashboard provider and every rule group name the same folder, by title', () => {
    expect(groups.length).toBeGreaterThan(0);
    const titles = new Set([...providers.map((p) => p.folder), ...groups.map((g) => g.folder)]);
    expect([...titles]).toEqual(['Scorpio']);
  });

  it('no dashboard provider names its folder by uid, so it reuses the folder alerting created first', () => {
    // Alerting provisions before dashboards and finds or creates a rule group's folder by title only
    // (pkg/services/provisioning/alerting/rules_provisioner.go). A provider with `folderUid` looks the folder up by
    // uid instead (pkg/services/provisioning/dashboards/file_reader.go getOrCreateFolder), misses it and creates a
    // second folder with the same title (grafana/grafana#125079).
    for (const provider of providers) {
      expect(provider.folderUid).toBeUndefined();
      expect(provider.options.foldersFromFilesStructure).not.toBe(true);
    }
  });
});
