import { useState, type ReactNode } from 'react';
import { Button, Dropdown, Tooltip, type MenuProps } from 'antd';
import { BgColorsOutlined, TranslationOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { useAppDispatch, useAppSelector } from '../app/hooks';
import { languageChanged, LANGUAGES, themeChanged, type Language, type ThemePref } from '../features/settings/prefsSlice';

export const LANGUAGE_NAMES: Record<Language, string> = { 'zh-CN': '简体中文', 'en-US': 'English' };
const THEMES: ThemePref[] = ['system', 'light', 'dark'];

/**
 * An icon button with a tooltip that opens a menu. The tooltip is hidden while the menu is
 * open: otherwise it sits over the menu's first item (the pointer moving onto it keeps it open).
 */
function MenuButton({ label, icon, menu }: { label: string; icon: ReactNode; menu: MenuProps }) {
  const [open, setOpen] = useState(false);
  return (
    <Dropdown trigger={['click']} menu={menu} open={open} onOpenChange={setOpen}>
      <Tooltip title={label} open={open ? false : undefined}>
        <Button type="text" icon={icon} aria-label={label} aria-haspopup="menu" aria-expanded={open} />
      </Tooltip>
    </Dropdown>
  );
}

/** Compact language and theme menus, for pages without the settings page at hand. */
export function PreferenceSwitches() {
  const { t } = useTranslation();
  const dispatch = useAppDispatch();
  const { language, theme } = useAppSelector((s) => s.prefs);
  return (
    <>
      <MenuButton
        label={t('prefs.language')}
        icon={<TranslationOutlined />}
        menu={{
          selectable: true,
          selectedKeys: [language],
          items: LANGUAGES.map((l) => ({ key: l, label: LANGUAGE_NAMES[l], lang: l })),
          onClick: ({ key }) => dispatch(languageChanged(key as Language)),
        }}
      />
      <MenuButton
        label={t('prefs.theme')}
        icon={<BgColorsOutlined />}
        menu={{
          selectable: true,
          selectedKeys: [theme],
          items: THEMES.map((th) => ({ key: th, label: t(`prefs.theme_${th}`) })),
          onClick: ({ key }) => dispatch(themeChanged(key as ThemePref)),
        }}
      />
    </>
  );
}
