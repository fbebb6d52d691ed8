import type { ApiErrorBody } from '../../src-main/contract/contract.ts';
import { en, type MessageKey } from './en.ts';
import { formatMessage } from './format.ts';
import { zhCN } from './zh-CN.ts';

const pageLanguage = (): string => (typeof document !== 'undefined' ? document.documentElement.lang : 'en');

/**
 * An engine error as the user reads it: the engine sends a message key and its parameters with
 * the English text, and the text is said in the page's language (the one the user chose). Errors
 * the catalog does not know are shown in the engine's English.
 */
export function errorText(error: Pick<ApiErrorBody, 'message' | 'text'> | undefined | null, language = pageLanguage()): string {
  if (!error) return '';
  const key = `engine.${error.text?.key}` as MessageKey;
  const catalog = language === 'zh-CN' ? zhCN : en;
  return error.text && key in catalog ? formatMessage(catalog[key], error.text.params, language) : error.message;
}
