import type { Locator, Page } from 'playwright-core';

/**
 * Whether every list on the page takes clicks: none has scrolled for 300 ms, and none has pointer events off.
 * react-window turns pointer events off on its rows (`pointer-events: none` on the inner list) while the list
 * scrolls and until 150 ms after the last scroll event (its isScrolling state). The scroll listener is installed
 * by the first evaluation, which counts as a scroll (so the first call waits 300 ms).
 */
const LISTS_SETTLED = `(() => {
  const w = window;
  if (w.__ladLastScroll === undefined) {
    w.__ladLastScroll = performance.now();
    document.addEventListener('scroll', () => { w.__ladLastScroll = performance.now(); }, true);
    return false;
  }
  return performance.now() - w.__ladLastScroll > 300 &&
    [...document.querySelectorAll('[role=list]')].every((l) => getComputedStyle(l).pointerEvents !== 'none');
})()`;

/**
 * Clicks a control inside a row of the panel's virtual list once the list has stopped scrolling. Playwright
 * scrolls a target into view before clicking; the list then re-renders its rows with pointer events off, and under
 * load that render can land between Playwright's hit-target check and the mouse events, so the click reaches the
 * list, not the button, and is lost (the browser test's "context never came" in 2 of ~15 loaded runs: the row stayed
 * collapsed and no context request was sent). Scrolling first and waiting for the list to settle removes the race;
 * no timeout is lengthened.
 */
export async function settledClick(page: Page, target: Locator): Promise<void> {
  await target.scrollIntoViewIfNeeded();
  await page.waitForFunction(LISTS_SETTLED, null, { polling: 50 });
  await target.click();
}
