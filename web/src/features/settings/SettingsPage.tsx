import { Tabs } from 'antd';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router';
import { TopBar } from '../../components/TopBar';
import { ApiKeysSection } from '../apiKeys/ApiKeysSection';
import { DataRightsSection } from '../dataRights/DataRightsSection';
import { MfaSection } from '../mfa/MfaSection';
import { PasskeysSection } from '../passkeys/PasskeysSection';
import { IdentitiesCard } from '../sso/IdentitiesCard';
import { PasswordSection } from './PasswordSection';
import { PreferencesSection } from './PreferencesSection';
import { ProfileSection } from './ProfileSection';
import { SessionsSection } from './SessionsSection';
import { UsageSection } from '../usage/UsageSection';
import styles from './settings.module.css';

const TABS = ['profile', 'security', 'sessions', 'apiKeys', 'preferences', 'data'] as const;
type Tab = (typeof TABS)[number];

export function SettingsPage() {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const requested = params.get('tab') as Tab | null;
  const active: Tab = requested && TABS.includes(requested) ? requested : 'profile';

  return (
    <div className={styles.page}>
      <TopBar title={t('settings.title')} />
      <div className={styles.scroll}>
        <div className={styles.inner}>
          <Tabs
            activeKey={active}
            onChange={(key) => setParams({ tab: key }, { replace: true })}
            items={[
              {
                key: 'profile',
                label: t('settings.profile'),
                children: (
                  <>
                    <ProfileSection />
                    <UsageSection />
                  </>
                ),
              },
              { key: 'security', label: t('settings.password'), children: <><PasswordSection /><MfaSection /><PasskeysSection /><IdentitiesCard /></> },
              { key: 'sessions', label: t('settings.sessions'), children: <SessionsSection /> },
              { key: 'apiKeys', label: t('apiKeys.tab'), children: <ApiKeysSection /> },
              { key: 'preferences', label: t('settings.preferences'), children: <PreferencesSection /> },
              { key: 'data', label: t('dataRights.tab'), children: <DataRightsSection /> },
            ]}
          />
        </div>
      </div>
    </div>
  );
}
