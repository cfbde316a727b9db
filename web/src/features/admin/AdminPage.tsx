import { Result, Tabs } from 'antd';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router';
import { useAppSelector } from '../../app/hooks';
import { TopBar } from '../../components/TopBar';
import { adminTabsFor } from './adminTabs';
import { AuditSection } from './AuditSection';
import { StatsSection } from './StatsSection';
import { UpstreamKeysSection } from './UpstreamKeysSection';
import { UsersSection } from './UsersSection';
import { RolesSection } from '../roles/RolesSection';
import { SecurityEventsSection } from '../securityEvents/SecurityEventsSection';
import styles from './admin.module.css';

/** The admin console: tabs by role (the server checks every request; this only hides). */
export function AdminPage() {
  const { t } = useTranslation();
  const role = useAppSelector((s) => s.auth.user?.role);
  const tabs = adminTabsFor(role);
  const [params, setParams] = useSearchParams();
  const requested = params.get('tab');
  const active = tabs.find((x) => x === requested) ?? tabs[0];

  if (tabs.length === 0) {
    return (
      <div className={styles.page}>
        <TopBar title={t('admin.title')} />
        <Result status="403" subTitle={t('admin.forbidden')} />
      </div>
    );
  }
  const content = {
    users: <UsersSection />,
    keys: <UpstreamKeysSection />,
    roles: <RolesSection />,
    security: <SecurityEventsSection />,
    audit: <AuditSection />,
    stats: <StatsSection />,
  };
  return (
    <div className={styles.page}>
      <TopBar title={t('admin.title')} />
      <div className={styles.scroll}>
        <div className={styles.inner}>
          <Tabs
            activeKey={active}
            onChange={(key) => setParams({ tab: key }, { replace: true })}
            destroyOnHidden
            items={tabs.map((key) => ({ key, label: t(`admin.tab_${key}`), children: content[key] }))}
          />
        </div>
      </div>
    </div>
  );
}
