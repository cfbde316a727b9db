import { Button, Dropdown, Tooltip } from 'antd';
import { BgColorsOutlined, TranslationOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { useAppDispatch, useAppSelector } from '../app/hooks';
import { languageChanged, LANGUAGES, themeChanged, type Language, type ThemePref } from '../features/settings/prefsSlice';

export const LANGUAGE_NAMES: Record<Language, string> = { 'zh-CN': '简体中文', 'en-US': 'English' };
const THEMES: ThemePref[] = ['system', 'light', 'dark'];

/** Compact language and theme menus, for pages without the settings page at hand. */
export function PreferenceSwitches() {
  const { t } = useTranslation();
  const dispatch = useAppDispatch();
  const { language, theme } = useAppSelector((s) => s.prefs);
  return (
    <>
      <Dropdown
        trigger={['click']}
        menu={{
          selectable: true,
          selectedKeys: [language],
          items: LANGUAGES.map((l) => ({ key: l, label: LANGUAGE_NAMES[l] })),
          onClick: ({ key }) => dispatch(languageChanged(key as Language)),
        }}
      >
        <Tooltip title={t('prefs.language')}>
          <Button type="text" icon={<TranslationOutlined />} aria-label={t('prefs.language')} />
        </Tooltip>
      </Dropdown>
      <Dropdown
        trigger={['click']}
        menu={{
          selectable: true,
          selectedKeys: [theme],
          items: THEMES.map((th) => ({ key: th, label: t(`prefs.theme_${th}`) })),
          onClick: ({ key }) => dispatch(themeChanged(key as ThemePref)),
        }}
      >
        <Tooltip title={t('prefs.theme')}>
          <Button type="text" icon={<BgColorsOutlined />} aria-label={t('prefs.theme')} />
        </Tooltip>
      </Dropdown>
    </>
  );
}
