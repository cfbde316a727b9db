import { Button, Typography } from 'antd';
import { EditOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { limitParts, type LimitField, type LimitValues } from './limitRules';
import styles from './limits.module.css';

interface Props<F extends LimitField> {
  values: Partial<LimitValues<F>> | null | undefined;
  fields: readonly F[];
  /** Shown when no limit of its own is set. */
  none: string;
  editLabel: string;
  onEdit: () => void;
}

/**
 * A table cell: the limits that are set, in short ("600 rpm · 10M tokens/day"), wrapping
 * between limits only, and an edit button.
 */
export function LimitsCell<F extends LimitField>({ values, fields, none, editLabel, onEdit }: Props<F>) {
  const { t, i18n } = useTranslation();
  const parts = limitParts(values, fields, i18n.language, t);
  return (
    <span className={styles.summary}>
      {parts.length ? (
        <Typography.Text className={styles.summaryText}>
          {parts.map((p, i) => (
            <span key={i}>
              <span className={styles.part}>{p}</span>
              {i < parts.length - 1 && ' · '}
            </span>
          ))}
        </Typography.Text>
      ) : (
        <Typography.Text type="secondary">{none}</Typography.Text>
      )}
      <Button size="small" type="text" icon={<EditOutlined />} aria-label={editLabel} onClick={onEdit} />
    </span>
  );
}
