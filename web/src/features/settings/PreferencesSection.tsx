import { Form, Segmented, Select } from 'antd';
import { DesktopOutlined, MoonOutlined, SunOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { useAppDispatch, useAppSelector } from '../../app/hooks';
import { LANGUAGE_NAMES } from '../../components/PreferenceSwitches';
import { languageChanged, LANGUAGES, themeChanged, type Language, type ThemePref } from './prefsSlice';
import { useUpdateMeMutation } from './usersApi';
import styles from './settings.module.css';

/** Language and theme: remembered on this device and saved with the account for other devices. */
export function PreferencesSection() {
  const { t } = useTranslation();
  const dispatch = useAppDispatch();
  const { language, theme } = useAppSelector((s) => s.prefs);
  const settings = useAppSelector((s) => s.auth.user?.settings);
  const [updateMe] = useUpdateMeMutation();

  const saveToAccount = (patch: Record<string, unknown>) => {
    // Best effort: the device keeps the choice even when this fails.
    updateMe({ settings: { ...(settings ?? {}), ...patch } }).catch(() => undefined);
  };

  return (
    <Form className={styles.form} layout="vertical">
      <Form.Item label={t('prefs.language')} htmlFor="pref-language">
        <Select
          id="pref-language"
          value={language}
          options={LANGUAGES.map((l) => ({ value: l, label: LANGUAGE_NAMES[l] }))}
          onChange={(l: Language) => {
            dispatch(languageChanged(l));
            saveToAccount({ language: l });
          }}
        />
      </Form.Item>
      <Form.Item label={t('prefs.theme')}>
        <Segmented<ThemePref>
          aria-label={t('prefs.theme')}
          value={theme}
          onChange={(v) => {
            dispatch(themeChanged(v));
            saveToAccount({ theme: v });
          }}
          options={[
            { value: 'system', label: t('prefs.theme_system'), icon: <DesktopOutlined /> },
            { value: 'light', label: t('prefs.theme_light'), icon: <SunOutlined /> },
            { value: 'dark', label: t('prefs.theme_dark'), icon: <MoonOutlined /> },
          ]}
        />
      </Form.Item>
    </Form>
  );
}
