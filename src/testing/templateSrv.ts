import type { ScopedVars, TypedVariableModel } from '@grafana/data';
import type { TemplateSrv } from '@grafana/runtime';

/**
 * Grafana's template service reduced to what a datasource uses: `$name` / `${name}` from a map (scoped variables
 * first, as Grafana's does), `csv` joins lists with commas, other formats give `{a,b}`.
 */
export class FakeTemplateSrv implements TemplateSrv {
  constructor(private readonly vars: Record<string, string | string[]>) {}
  getVariables(): TypedVariableModel[] {
    return Object.keys(this.vars).map((name) => ({ name }) as TypedVariableModel);
  }
  replace(target?: string, scoped?: ScopedVars, format?: string | Function): string {
    return (target ?? '').replace(/\$\{?(\w+)\}?/g, (all, name: string) => {
      const v = scoped?.[name]?.value ?? this.vars[name];
      if (v === undefined) {
        return all;
      }
      if (!Array.isArray(v)) {
        return String(v);
      }
      return format === 'csv' ? v.join(',') : `{${v.join(',')}}`;
    });
  }
  containsTemplate(target?: string): boolean {
    return /\$/.test(target ?? '');
  }
  updateTimeRange(): void {}
}
