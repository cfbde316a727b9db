import { Button, Descriptions, Progress, Result, Skeleton, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { useAppSelector } from '../../app/hooks';
import { useErrorText } from '../../components/useErrorText';
import { formatDateTime, formatNumber } from '../../lib/format';
import { percentUsed, useGetUsageQuery, type Amount, type UsageWindow } from './usageApi';
import styles from './usage.module.css';

function Budget({ label, amount, money, locale }: { label: string; amount: Amount; money: boolean; locale: string }) {
  const { t } = useTranslation();
  const show = (n: number) => (money ? `¥${n.toFixed(2)}` : formatNumber(n, locale));
  const percent = percentUsed(amount);
  return (
    <div className={styles.budget}>
      <div className={styles.budgetHead}>
        <Typography.Text>{label}</Typography.Text>
        <Typography.Text type="secondary">
          {t('usage.usedOf', { used: show(amount.used), limit: show(amount.limit) })} · {t('usage.left', { left: show(amount.left) })}
        </Typography.Text>
      </div>
      <Progress percent={Math.round(percent)} status={percent >= 100 ? 'exception' : 'normal'} showInfo={false} />
    </div>
  );
}

function Window({ title, w, locale }: { title: string; w: UsageWindow; locale: string }) {
  const { t } = useTranslation();
  return (
    <section className={styles.window}>
      <Typography.Title level={5}>{title}</Typography.Title>
      <Budget label={t('usage.tokens')} amount={w.tokens} money={false} locale={locale} />
      <Budget label={t('usage.cost')} amount={w.cost_cny} money locale={locale} />
      <Typography.Text type="secondary">{t('usage.resetsAt', { time: formatDateTime(w.resets_at, locale) })}</Typography.Text>
    </section>
  );
}

/** Settings (below the profile): what the budgets allow and what is left. */
export function UsageSection() {
  const { t } = useTranslation();
  const errorText = useErrorText();
  const locale = useAppSelector((s) => s.prefs.language);
  const { data, isLoading, isError, error, refetch } = useGetUsageQuery(undefined, { refetchOnMountOrArgChange: true });

  if (isLoading) return <Skeleton active className={styles.usage} />;
  if (isError || !data) {
    return (
      <Result
        status="warning"
        subTitle={errorText(error)}
        extra={<Button onClick={() => refetch()}>{t('common.retry')}</Button>}
      />
    );
  }
  return (
    <section className={styles.usage} aria-label={t('usage.title')}>
      <Typography.Title level={4}>{t('usage.title')}</Typography.Title>
      <Typography.Paragraph type="secondary">{t('usage.intro')}</Typography.Paragraph>
      <Window title={t('usage.today')} w={data.day} locale={locale} />
      <Window title={t('usage.thisMonth')} w={data.month} locale={locale} />
      <Descriptions size="small" column={1} title={t('usage.rates')}>
        <Descriptions.Item label={t('usage.rpm')}>{formatNumber(data.rate.rpm, locale)}</Descriptions.Item>
        <Descriptions.Item label={t('usage.tpm')}>{formatNumber(data.rate.tpm, locale)}</Descriptions.Item>
      </Descriptions>
    </section>
  );
}
