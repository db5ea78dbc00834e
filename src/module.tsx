import React from 'react';
import { AppPlugin, type AppRootProps } from '@grafana/data';

import { Overview } from './app/Overview';

/** The app has one page (plugin.json "Overview"): every route under /a/scorpio-lad-app shows it. */
function App(_props: AppRootProps) {
  return <Overview />;
}

export const plugin = new AppPlugin<{}>().setRootPage(App);
