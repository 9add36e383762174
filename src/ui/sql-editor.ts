import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap, type CompletionContext, type CompletionResult } from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { bracketMatching, HighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { sql, SQLDialect } from '@codemirror/lang-sql';
import { Compartment, EditorState, Prec } from '@codemirror/state';
import { EditorView, keymap, placeholder } from '@codemirror/view';
import { tags } from '@lezer/highlight';
import { FUNCTIONS, KEYWORDS, TYPES } from './sql-words.ts';

/**
 * The SQL console's editor: CodeMirror 6 with DuckDB's own words, completing the console's table
 * names and their columns. SqlConsole loads this module with a dynamic import, so it is a chunk of
 * its own that only the SQL tab asks for; until it arrives (or if it cannot) the console is a textarea.
 */

/** DuckDB as the console speaks it: its keywords, types and functions; `"` quotes identifiers, `@` is `name@v3`. */
export const DuckDB = SQLDialect.define({
  keywords: KEYWORDS,
  types: TYPES,
  builtin: FUNCTIONS,
  operatorChars: '*+-%<>!=&|~^/@:',
  doubleDollarQuotedStrings: true,
  caseInsensitiveIdentifiers: true,
});

/** Each table the console can read (`silver_events`, `file_sales`, `opened_trips`) and its column names. */
export type SqlSchema = Record<string, readonly string[]>;

export interface SqlEditorOptions {
  parent: HTMLElement;
  doc: string;
  /** the accessible name of the editable element */
  label: string;
  schema: SqlSchema;
  onchange: (doc: string) => void;
  /** Ctrl+Enter (Cmd+Enter) */
  onrun: () => void;
}

export interface SqlEditor {
  /** Replace the text (a history entry, an example), the cursor at its end. */
  set(doc: string): void;
  setSchema(schema: SqlSchema): void;
  /** Focus, with the cursor or selection at `selection` when given (offsets into the text). */
  focus(selection?: { anchor: number; head: number }): void;
  destroy(): void;
}

const OPTIONS_SHOWN = 12;

// Colours over the app's own variables (App.svelte), each at least 4.5:1 on --panel, light and dark.
const highlight = HighlightStyle.define([
  { tag: [tags.keyword, tags.operatorKeyword, tags.modifier], color: 'light-dark(#7a3e9d, #d3a8f0)', fontWeight: '600' },
  { tag: [tags.string, tags.special(tags.string)], color: 'light-dark(#1b6e30, #8fd18f)' },
  { tag: [tags.number, tags.bool, tags.null], color: 'light-dark(#9a4a00, #f0a04b)' },
  { tag: [tags.typeName, tags.standard(tags.name)], color: 'light-dark(#0b6287, #6cc6e8)' },
  { tag: tags.comment, color: 'var(--muted)', fontStyle: 'italic' },
  { tag: [tags.special(tags.name), tags.quote], color: 'var(--fg)' },
]);

const theme = EditorView.theme({
  '&': {
    color: 'var(--fg)',
    backgroundColor: 'var(--panel)',
    border: '1px solid var(--line)',
    borderRadius: '6px',
    fontSize: '0.85rem',
  },
  '&.cm-focused': { outline: '2px solid var(--accent)', outlineOffset: '-1px' },
  '.cm-scroller': { fontFamily: "ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace", lineHeight: '1.5', minHeight: '9.5em', maxHeight: '24em' },
  '.cm-content': { padding: '0.35rem 0', caretColor: 'var(--fg)' },
  '.cm-line': { padding: '0 0.5rem' },
  '.cm-cursor': { borderLeftColor: 'var(--fg)' },
  '&.cm-focused .cm-selectionBackground, .cm-selectionBackground, ::selection': { backgroundColor: 'color-mix(in srgb, var(--accent) 30%, transparent)' },
  '.cm-matchingBracket': { backgroundColor: 'color-mix(in srgb, var(--accent) 25%, transparent)', outline: 'none' },
  '.cm-placeholder': { color: 'var(--muted)' },
  '.cm-tooltip': { backgroundColor: 'var(--panel)', color: 'var(--fg)', border: '1px solid var(--line)', borderRadius: '6px' },
  // Never a scrolling list (a region the keyboard could not reach): at most OPTIONS_SHOWN, the window moving with the selection.
  '.cm-tooltip.cm-tooltip-autocomplete > ul': { fontFamily: "ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace", maxHeight: 'none' },
  '.cm-tooltip.cm-tooltip-autocomplete > ul > li[aria-selected]': { backgroundColor: 'var(--accent)', color: 'var(--on-accent)' },
  '.cm-completionDetail': { color: 'inherit', opacity: '0.85' },
});

/** Schema completion as lang-sql does it: tables, `table.column` and the columns of an alias. */
function namespace(schema: SqlSchema): Record<string, readonly string[]> {
  return Object.fromEntries(Object.entries(schema).map(([table, columns]) => [table, [...columns]]));
}

/**
 * Columns without a table in front (`SELECT ev|`): those of every table the text names, as a
 * DuckDB user types them; lang-sql completes bare names only as tables.
 */
function columnsOfNamedTables(schema: () => SqlSchema) {
  return (context: CompletionContext): CompletionResult | null => {
    const word = context.matchBefore(/[A-Za-z_][\w$]*/);
    if (!word && !context.explicit) return null;
    if (word && context.state.sliceDoc(word.from - 1, word.from) === '.') return null;
    const text = context.state.doc.toString().toLowerCase();
    const options = Object.entries(schema())
      .filter(([table]) => new RegExp(`\\b${table.toLowerCase()}\\b`).test(text))
      .flatMap(([table, columns]) => columns.map((c) => ({ label: c, type: 'property', detail: table, boost: 1 })));
    return options.length === 0 ? null : { from: word?.from ?? context.pos, options, validFor: /^[\w$]*$/ };
  };
}

export function createSqlEditor(options: SqlEditorOptions): SqlEditor {
  let schema = options.schema;
  const language = new Compartment();
  const languageFor = (s: SqlSchema) => sql({ dialect: DuckDB, schema: namespace(s), upperCaseKeywords: true });
  const view = new EditorView({
    parent: options.parent,
    state: EditorState.create({
      doc: options.doc,
      extensions: [
        language.of(languageFor(schema)),
        DuckDB.language.data.of({ autocomplete: columnsOfNamedTables(() => schema) }),
        Prec.highest(
          keymap.of([
            {
              key: 'Mod-Enter',
              run: () => {
                options.onrun();
                return true;
              },
            },
          ]),
        ),
        history(),
        closeBrackets(),
        bracketMatching(),
        autocompletion({ icons: false, maxRenderedOptions: OPTIONS_SHOWN }),
        syntaxHighlighting(highlight),
        keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap, ...completionKeymap]),
        EditorView.lineWrapping,
        placeholder('SELECT * FROM silver_events'),
        EditorView.contentAttributes.of({ 'aria-label': options.label, spellcheck: 'false', autocapitalize: 'off', autocorrect: 'off' }),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) options.onchange(update.state.doc.toString());
        }),
        theme,
      ],
    }),
  });
  return {
    set(doc) {
      if (doc === view.state.doc.toString()) return;
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: doc }, selection: { anchor: doc.length } });
    },
    setSchema(next) {
      schema = next;
      view.dispatch({ effects: language.reconfigure(languageFor(next)) });
    },
    focus(selection) {
      view.focus();
      if (!selection) return;
      const at = (n: number) => Math.min(n, view.state.doc.length);
      view.dispatch({ selection: { anchor: at(selection.anchor), head: at(selection.head) } });
    },
    destroy: () => view.destroy(),
  };
}
