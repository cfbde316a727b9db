import { Alert } from 'antd';
import { useTranslation } from 'react-i18next';
import { useAppSelector } from '../../app/hooks';
import { formatDateTime } from '../../lib/format';
import { nearestBudget, useGetUsageQuery } from './usageApi';

/** A gentle note above the composer once a budget is 80 % used. */
export function UsageWarning() {
  const { t } = useTranslation();
  const locale = useAppSelector((s) => s.prefs.language);
  const { data } = useGetUsageQuery();
  const near = nearestBudget(data);
  if (!near) return null;
  return (
    <Alert
      type={near.percent >= 100 ? 'error' : 'warning'}
      showIcon
      banner
      message={t(near.percent >= 100 ? 'usage.spent' : 'usage.nearLimit', {
        budget: t(`usage.budget_${near.name}`),
        percent: Math.floor(near.percent),
        time: formatDateTime(near.resetsAt, locale),
      })}
    />
  );
}
