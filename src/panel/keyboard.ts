import type { KeyboardEvent } from 'react';

/** The index of the item an ArrowUp/ArrowDown inside item `[data-index]` moves to; null for other keys or outside items. */
export function arrowTarget(event: KeyboardEvent<HTMLElement>): number | null {
  if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') {
    return null;
  }
  const itemEl = (event.target as HTMLElement).closest<HTMLElement>('[data-index]');
  if (!itemEl) {
    return null;
  }
  return Number(itemEl.dataset.index) + (event.key === 'ArrowDown' ? 1 : -1);
}
