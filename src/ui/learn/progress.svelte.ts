/**
 * What the learner has done, kept in this browser (localStorage): the steps taken and the check
 * questions answered right, lesson by lesson. Nothing of it leaves the page.
 */
const KEY = 'creatorops-learn-progress';

interface LessonProgress {
  steps: string[];
  answered: boolean;
}

function load(): Record<string, LessonProgress> {
  try {
    const parsed = JSON.parse(localStorage.getItem(KEY) ?? '{}') as unknown;
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, LessonProgress>) : {};
  } catch {
    return {};
  }
}

export const progress = $state<{ lessons: Record<string, LessonProgress> }>({ lessons: load() });

function save(): void {
  try {
    localStorage.setItem(KEY, JSON.stringify(progress.lessons));
  } catch {
    // storage full or refused: progress lives until the page closes
  }
}

const of = (lesson: string): LessonProgress => (progress.lessons[lesson] ??= { steps: [], answered: false });

export function stepDone(lesson: string, step: string): void {
  const p = of(lesson);
  if (!p.steps.includes(step)) p.steps.push(step);
  save();
}

export function answered(lesson: string): void {
  of(lesson).answered = true;
  save();
}

export function isDone(lesson: string, steps: number): boolean {
  const p = progress.lessons[lesson];
  return !!p && p.answered && p.steps.length >= steps;
}

export function forgetProgress(): void {
  progress.lessons = {};
  save();
}
