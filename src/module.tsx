import React from 'react';
import { AppPlugin, type AppRootProps } from '@grafana/data';

function App(_props: AppRootProps) {
  return <div>Scorpio</div>;
}

export const plugin = new AppPlugin<{}>().setRootPage(App);
