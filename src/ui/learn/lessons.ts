/** The lessons in order: each deep-linkable as `#learn/<id>`. */
export const LESSONS = [
  { id: 'layers', title: 'Bronze, silver, gold', steps: 2, summary: 'One batch from raw lines to bronze, to silver or rejects, to gold.' },
  {
    id: 'commit',
    title: 'What a commit holds',
    steps: 2,
    summary: 'The add, remove, metaData, protocol, txn and commitInfo actions of commits you just made.',
  },
  { id: 'time-travel', title: 'Time travel', steps: 2, summary: 'Read version N and N+1 of a table and see the difference.' },
  { id: 'contracts', title: 'Contracts and expectations', steps: 2, summary: 'Break an event yourself and watch it land in rejects with its rule.' },
  { id: 'optimize-vacuum', title: 'OPTIMIZE and VACUUM', steps: 3, summary: 'The files each version reads, before and after compaction and cleanup.' },
  { id: 'checkpoints', title: 'Checkpoints', steps: 2, summary: 'Why reading a table does not get slower with every commit.' },
  { id: 'concurrency', title: 'Optimistic concurrency', steps: 1, summary: 'Two writers race for the same version; one retries, nothing is lost.' },
  { id: 'idempotence', title: 'Idempotence', steps: 2, summary: 'Running silver again changes nothing, thanks to txn.' },
] as const;

export type LessonId = (typeof LESSONS)[number]['id'];

export const lessonHash = (id: string): string => `#learn/${id}`;

/** The lesson a hash names (`#learn/time-travel`), or undefined for the list. */
export function lessonOf(hash: string): LessonId | undefined {
  const id = hash.replace(/^#/, '').split('/')[1];
  return LESSONS.find((l) => l.id === id)?.id;
}
