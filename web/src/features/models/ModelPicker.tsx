import { Select } from 'antd';
import { useTranslation } from 'react-i18next';
import { chatModels, useListModelsQuery } from './modelsApi';
import styles from './models.module.css';

export interface ModelPickerProps {
  value?: string;
  onChange?: (model: string) => void;
  disabled?: boolean;
  /** Compact (in the message box) or regular (in forms). */
  compact?: boolean;
}

/** Choice of chat model, from GET /models (enabled chat and vision models). */
export function ModelPicker({ value, onChange, disabled, compact = false }: ModelPickerProps) {
  const { t } = useTranslation();
  const { data, isLoading, isError, refetch } = useListModelsQuery();
  const models = chatModels(data);
  const options = models.map((m) => ({ value: m.id, label: m.id }));
  if (value && !options.some((o) => o.value === value)) options.unshift({ value, label: value });
  return (
    <Select
      className={compact ? styles.picker : styles.formPicker}
      size={compact ? 'small' : 'middle'}
      variant={compact ? 'filled' : 'outlined'}
      value={value}
      onChange={onChange}
      options={options}
      loading={isLoading}
      disabled={disabled}
      showSearch={{ optionFilterProp: 'label' }}
      popupMatchSelectWidth={false}
      placeholder={isError ? t('models.unavailable') : t('models.choose')}
      status={isError ? 'warning' : undefined}
      aria-label={t('models.label')}
      notFoundContent={isError ? t('models.unavailable') : t('models.none')}
      onOpenChange={(open) => {
        if (open && isError) void refetch();
      }}
    />
  );
}
