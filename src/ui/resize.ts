import type { Attachment } from 'svelte/attachments';

/**
 * Reports an element's content box after each layout that changes it (`{@attach resized(...)}`).
 * Unlike bind:clientWidth it does not read the size when mounted: on the dashboard that forced a
 * layout of everything built so far, once per chart. An element not laid out yet (off screen, under
 * content-visibility) has no width and is not reported.
 */
export function resized(report: (box: DOMRectReadOnly) => void): Attachment<HTMLElement> {
  return (element) => {
    const observer = new ResizeObserver(([entry]) => {
      if (entry && entry.contentRect.width > 0) report(entry.contentRect);
    });
    observer.observe(element);
    return () => observer.disconnect();
  };
}
