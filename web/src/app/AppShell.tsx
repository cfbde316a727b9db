import { useCallback, useEffect, useMemo, useState } from 'react';
import { Drawer, Grid, Layout } from 'antd';
import { Outlet, useLocation } from 'react-router';
import { useTranslation } from 'react-i18next';
import { ShellContext } from '../components/shellContext';
import { Sidebar } from '../features/conversations/Sidebar';
import styles from './shell.module.css';

/** Signed-in layout: conversation sidebar (a drawer below the md breakpoint) beside the page. */
export function AppShell() {
  const { t } = useTranslation();
  const screens = Grid.useBreakpoint();
  const compact = !screens.md;
  const [navOpen, setNavOpen] = useState(false);
  const location = useLocation();

  // Any navigation closes the drawer.
  useEffect(() => setNavOpen(false), [location.pathname]);

  const openNav = useCallback(() => setNavOpen(true), []);
  const shell = useMemo(() => ({ compact, openNav }), [compact, openNav]);

  return (
    <ShellContext.Provider value={shell}>
      <Layout className={styles.shell} hasSider={!compact}>
        {compact ? (
          <Drawer
            placement="left"
            open={navOpen}
            onClose={() => setNavOpen(false)}
            size={300}
            closable={false}
            title={null}
            classNames={{ body: styles.drawerBody }}
            aria-label={t('nav.conversations')}
          >
            <Sidebar onNavigate={() => setNavOpen(false)} />
          </Drawer>
        ) : (
          <Layout.Sider width={288} theme="light" className={styles.sider}>
            <Sidebar />
          </Layout.Sider>
        )}
        <Layout className={styles.main}>
          <Outlet />
        </Layout>
      </Layout>
    </ShellContext.Provider>
  );
}
