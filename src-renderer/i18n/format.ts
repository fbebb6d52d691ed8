/**
 * Fills a message: `{name}` takes a parameter, and `{n, plural, one {# image} other {# images}}`
 * chooses the form the language's plural rules give for n (`#` is the number). Languages without
 * plural forms (Chinese) write the message without the plural block.
 */
export function formatMessage(template: string, params: Record<string, string | number> | undefined, language: string): string {
  const plural = /\{(\w+), plural,((?:\s*[=\w]+\s*\{[^{}]*\})+)\s*\}/g;
  const filled = template.replace(plural, (_, name: string, cases: string) => {
    const value = Number(params?.[name]);
    const forms = Object.fromEntries([...cases.matchAll(/([=\w]+)\s*\{([^{}]*)\}/g)].map((m) => [m[1], m[2]]));
    const form = forms[`=${value}`] ?? forms[new Intl.PluralRules(language).select(value)] ?? forms.other ?? '';
    return form.replace(/#/g, new Intl.NumberFormat(language).format(value));
  });
  return filled.replace(/\{(\w+)\}/g, (_, name: string) => String(params?.[name] ?? `{${name}}`));
}

/** A date and time (or only the time) as the language writes it. */
export function formatDate(value: string | number | Date, language: string, part: 'datetime' | 'time' = 'datetime'): string {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return '–';
  return new Intl.DateTimeFormat(language, part === 'time' ? { timeStyle: 'medium' } : { dateStyle: 'medium', timeStyle: 'short' }).format(date);
}
