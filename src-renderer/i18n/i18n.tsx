import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { en, type MessageKey } from './en.ts';
import { zhCN } from './zh-CN.ts';
import { formatDate, formatMessage } from './format.ts';

export const LANGUAGES = { en: 'English', 'zh-CN': '简体中文' } as const;
export type Language = keyof typeof LANGUAGES;

const catalogs: Record<Language, Record<MessageKey, string>> = { en, 'zh-CN': zhCN };

type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

type FormatDate = (value: string | number | Date, part?: 'datetime' | 'time') => string;

const I18nContext = createContext<{ language: Language; setLanguage(l: Language): void; t: Translate; date: FormatDate } | null>(null);

const initialLanguage = (): Language => {
  const stored = localStorage.getItem('argus.language');
  if (stored === 'en' || stored === 'zh-CN') return stored;
  return navigator.language.startsWith('zh') ? 'zh-CN' : 'en';
};

export function I18nProvider({ children }: { children: ReactNode }) {
  const [language, setLanguageState] = useState<Language>(initialLanguage);
  const setLanguage = useCallback((l: Language) => {
    localStorage.setItem('argus.language', l);
    setLanguageState(l);
  }, []);
  // The page's language (screen readers, fonts, hyphenation) follows the chosen one from the start.
  useEffect(() => {
    document.documentElement.lang = language;
  }, [language]);
  const t = useCallback<Translate>((key, params) => formatMessage(catalogs[language][key], params, language), [language]);
  const date = useCallback<FormatDate>((value, part) => formatDate(value, language, part), [language]);
  const value = useMemo(() => ({ language, setLanguage, t, date }), [language, setLanguage, t, date]);
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n() {
  const context = useContext(I18nContext);
  if (!context) throw new Error('useI18n outside I18nProvider');
  return context;
}
