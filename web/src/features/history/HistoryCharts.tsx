import { useMemo } from 'react';
import { Card, Empty, theme } from 'antd';
import { useTranslation } from 'react-i18next';
import {
  Bar,
  BarChart,
  CartesianGrid,
  Cell,
  Legend,
  Line,
  LineChart,
  Pie,
  PieChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { chartSeries, PALETTE } from './chartData';
import type { Dashboard } from './historyApi';
import styles from './history.module.css';

function ChartCard({ title, children, testId }: { title: string; children: React.ReactElement; testId: string }) {
  return (
    <Card size="small" title={title} className={styles.chartCard} data-testid={testId}>
      <div className={styles.chart} role="img" aria-label={title}>
        <ResponsiveContainer width="100%" height="100%">
          {children}
        </ResponsiveContainer>
      </div>
    </Card>
  );
}

export default function HistoryCharts({ data }: { data: Dashboard }) {
  const { t } = useTranslation();
  const { token } = theme.useToken();
  const s = useMemo(() => chartSeries(data), [data]);
  if (data.totals.calls === 0) {
    return <Empty description={t('history.noCalls')} />;
  }
  const axis = { stroke: token.colorTextSecondary, fontSize: 11 };
  const grid = <CartesianGrid strokeDasharray="3 3" stroke={token.colorBorderSecondary} />;
  const tooltip = (
    <Tooltip
      contentStyle={{ background: token.colorBgElevated, borderColor: token.colorBorder, color: token.colorText }}
      labelStyle={{ color: token.colorText }}
    />
  );
  const legend = <Legend wrapperStyle={{ fontSize: 12, color: token.colorText }} />;
  const stacked = (rows: Record<string, string | number>[]) => (
    <BarChart data={rows}>
      {grid}
      <XAxis dataKey="day" tick={axis} stroke={token.colorBorder} />
      <YAxis tick={axis} stroke={token.colorBorder} width={48} />
      {tooltip}
      {legend}
      {s.series.map((m, i) => (
        <Bar key={m} dataKey={m} stackId="a" fill={PALETTE[i % PALETTE.length]} isAnimationActive={false} />
      ))}
    </BarChart>
  );
  return (
    <div className={styles.charts}>
      <ChartCard title={t('history.chartCalls')} testId="chart-calls">
        {stacked(s.calls)}
      </ChartCard>
      <ChartCard title={t('history.chartTokens')} testId="chart-tokens">
        {stacked(s.tokens)}
      </ChartCard>
      <ChartCard title={t('history.chartCost')} testId="chart-cost">
        <LineChart data={s.cost}>
          {grid}
          <XAxis dataKey="day" tick={axis} stroke={token.colorBorder} />
          <YAxis tick={axis} stroke={token.colorBorder} width={56} />
          {tooltip}
          <Line type="monotone" dataKey="cost" name={t('history.costCny')} stroke={PALETTE[0]} dot={false} isAnimationActive={false} />
        </LineChart>
      </ChartCard>
      <ChartCard title={t('history.chartLatency')} testId="chart-latency">
        <LineChart data={s.latency}>
          {grid}
          <XAxis dataKey="day" tick={axis} stroke={token.colorBorder} />
          <YAxis tick={axis} stroke={token.colorBorder} width={56} unit=" ms" />
          {tooltip}
          {legend}
          <Line type="monotone" dataKey="p50" name="p50" stroke={PALETTE[1]} dot={false} isAnimationActive={false} />
          <Line type="monotone" dataKey="p95" name="p95" stroke={PALETTE[2]} dot={false} isAnimationActive={false} />
        </LineChart>
      </ChartCard>
      <ChartCard title={t('history.chartShare')} testId="chart-share">
        <PieChart>
          {tooltip}
          {legend}
          <Pie data={s.share} dataKey="value" nameKey="name" innerRadius="45%" outerRadius="75%" isAnimationActive={false}>
            {s.share.map((x, i) => (
              <Cell key={x.name} fill={PALETTE[i % PALETTE.length]} stroke={token.colorBgContainer} />
            ))}
          </Pie>
        </PieChart>
      </ChartCard>
    </div>
  );
}
