import type { ReactNode } from 'react';
import { Button, Tooltip, Typography } from 'antd';
import { ArrowLeftOutlined, MenuOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { useShell } from './shellContext';
import styles from './components.module.css';

export interface TopBarProps {
  title: ReactNode;
  extra?: ReactNode;
  onBack?: () => void;
}

/** The bar at the top of every page; on phones it carries the button that opens the sidebar. */
export function TopBar({ title, extra, onBack }: TopBarProps) {
  const { t } = useTranslation();
  const { compact, openNav } = useShell();
  return (
    <header className={styles.topBar}>
      {compact && (
        <Button type="text" icon={<MenuOutlined />} aria-label={t('nav.open')} onClick={openNav} />
      )}
      {onBack && (
        <Tooltip title={t('common.back')}>
          <Button type="text" icon={<ArrowLeftOutlined />} aria-label={t('common.back')} onClick={onBack} />
        </Tooltip>
      )}
      <Typography.Title level={1} className={styles.topBarTitle}>
        {title}
      </Typography.Title>
      {extra && <div className={styles.topBarExtra}>{extra}</div>}
    </header>
  );
}
