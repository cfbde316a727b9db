import { useEffect, useMemo, type KeyboardEvent } from 'react';
import { Alert, Button, Form, Input, InputNumber, Segmented, Select, Typography, type FormInstance } from 'antd';
import { PictureOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { useAppSelector } from '../../app/hooks';
import type { Model } from '../../app/apiTypes';
import { useErrorText } from '../../components/useErrorText';
import { useListModelsQuery } from '../models/modelsApi';
import { countChars, fitToModel, MAX_SEED, toRequest, validateImageForm, type FieldError, type ImageFormField, type ImageFormValues } from './form';
import { defaultImageModel, formatPrice, formatSize, imageModels, pricePerImage, specOf } from './imageModels';
import { useCreateGenerationMutation } from './imagesApi';
import styles from './images.module.css';

export const EMPTY_FORM: ImageFormValues = { prompt: '', negativePrompt: '', n: 1, seed: null };

function normalise(v: Partial<ImageFormValues> | undefined): ImageFormValues {
  return {
    prompt: v?.prompt ?? '',
    negativePrompt: v?.negativePrompt ?? '',
    model: v?.model,
    size: v?.size,
    n: v?.n ?? 1,
    seed: v?.seed ?? null,
  };
}

function ModelLabel({ model, locale }: { model: Model; locale: string }) {
  const { t } = useTranslation();
  const price = pricePerImage(model);
  return (
    <span className={styles.modelOption}>
      <span className={styles.modelName}>{model.id}</span>
      {price && (
        <Typography.Text type="secondary" className={styles.modelPrice}>
          {t('images.perImage', { price: formatPrice(price, locale) })}
        </Typography.Text>
      )}
    </span>
  );
}

export interface GenerateFormProps {
  form: FormInstance<ImageFormValues>;
  /** After the hub accepted a generation. */
  onCreated?: () => void;
}

/** Prompt, negative prompt, model, size, count and seed, and the Generate button. */
export function GenerateForm({ form, onCreated }: GenerateFormProps) {
  const { t } = useTranslation();
  const errorText = useErrorText();
  const locale = useAppSelector((s) => s.prefs.language);
  const modelsQuery = useListModelsQuery();
  const models = useMemo(() => imageModels(modelsQuery.data), [modelsQuery.data]);
  const [create, creation] = useCreateGenerationMutation();

  const watched = Form.useWatch([], form) as Partial<ImageFormValues> | undefined;
  const values = normalise(watched);
  const model = models.find((m) => m.id === values.model);
  const spec = specOf(model);
  const errors = validateImageForm(values, spec);
  const valid = Object.keys(errors).length === 0;

  // Once the models are known, start with the default one (and its default size).
  useEffect(() => {
    const current = form.getFieldValue('model') as string | undefined;
    if (current && models.some((m) => m.id === current)) return;
    const id = defaultImageModel(models);
    if (!id) return;
    const all = normalise(form.getFieldsValue(true) as Partial<ImageFormValues>);
    form.setFieldsValue(fitToModel({ ...all, model: id }, specOf(models.find((m) => m.id === id))));
  }, [models, form]);

  const onValuesChange = (changed: Partial<ImageFormValues>, all: ImageFormValues) => {
    if ('model' in changed) {
      form.setFieldsValue(fitToModel(normalise(all), specOf(models.find((m) => m.id === changed.model))));
    }
  };

  const onFinish = async () => {
    const v = normalise(form.getFieldsValue(true) as Partial<ImageFormValues>);
    if (Object.keys(validateImageForm(v, specOf(models.find((m) => m.id === v.model)))).length) return;
    try {
      await create(toRequest(v)).unwrap();
      onCreated?.();
    } catch {
      /* shown below the button */
    }
  };

  const onPromptKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      form.submit();
    }
  };

  const shown = (field: ImageFormField): FieldError | undefined => {
    const err = errors[field];
    if (!err) return undefined;
    // "Required" waits until the field was used; "too long" and the like show at once.
    if (err.key === 'promptRequired' && !form.isFieldTouched(field)) return undefined;
    return err;
  };
  const itemStatus = (field: ImageFormField) => {
    const err = shown(field);
    return err
      ? { validateStatus: 'error' as const, help: t(`images.validation.${err.key}`, err.values ?? {}) }
      : {};
  };

  const price = pricePerImage(model);
  const noModels = modelsQuery.isSuccess && models.length === 0;

  return (
    <Form
      form={form}
      layout="vertical"
      initialValues={EMPTY_FORM}
      onValuesChange={onValuesChange}
      onFinish={onFinish}
      requiredMark={false}
      className={styles.form}
      aria-label={t('images.formTitle')}
    >
      <Form.Item name="prompt" label={t('images.prompt')} className={styles.counted} {...itemStatus('prompt')}>
        <Input.TextArea
          autoSize={{ minRows: 3, maxRows: 8 }}
          placeholder={t('images.promptPlaceholder')}
          count={{ show: true, max: spec.max_prompt_chars, strategy: countChars }}
          onKeyDown={onPromptKey}
        />
      </Form.Item>
      <Form.Item
        name="negativePrompt"
        label={t('images.negativePrompt')}
        className={styles.counted}
        {...itemStatus('negativePrompt')}
      >
        <Input.TextArea
          autoSize={{ minRows: 1, maxRows: 4 }}
          placeholder={t('images.negativePromptPlaceholder')}
          count={{ show: true, max: spec.max_negative_prompt_chars, strategy: countChars }}
        />
      </Form.Item>
      <Form.Item name="model" label={t('images.model')} {...itemStatus('model')}>
        <Select
          loading={modelsQuery.isLoading}
          options={models.map((m) => ({ value: m.id, label: <ModelLabel model={m} locale={locale} />, title: m.id }))}
          placeholder={modelsQuery.isError ? t('models.unavailable') : t('models.choose')}
          status={modelsQuery.isError ? 'warning' : undefined}
          notFoundContent={modelsQuery.isError ? t('models.unavailable') : t('models.none')}
          onOpenChange={(open) => {
            if (open && modelsQuery.isError) void modelsQuery.refetch();
          }}
        />
      </Form.Item>
      <div className={styles.formRow}>
        <Form.Item name="size" label={t('images.size')} className={styles.formCell} {...itemStatus('size')}>
          <Select options={spec.sizes.map((s) => ({ value: s, label: formatSize(s) }))} />
        </Form.Item>
        <Form.Item name="seed" label={t('images.seed')} className={styles.formCell} tooltip={t('images.seedHint')} {...itemStatus('seed')}>
          <InputNumber
            min={0}
            max={MAX_SEED}
            precision={0}
            placeholder={t('images.seedPlaceholder')}
            className={styles.fullWidth}
          />
        </Form.Item>
      </div>
      <Form.Item name="n" label={t('images.count')} {...itemStatus('n')}>
        <Segmented
          block
          aria-label={t('images.count')}
          options={Array.from({ length: spec.max_n }, (_, i) => ({ value: i + 1, label: String(i + 1) }))}
        />
      </Form.Item>
      {noModels && <Alert type="warning" showIcon title={t('images.noModels')} className={styles.formAlert} />}
      <Button
        type="primary"
        htmlType="submit"
        block
        size="large"
        icon={<PictureOutlined />}
        disabled={!valid}
        loading={creation.isLoading}
      >
        {t('images.generate')}
      </Button>
      {price && valid && (
        <Typography.Text type="secondary" className={styles.estimate}>
          {t('images.estimate', { count: values.n, price: formatPrice({ ...price, amount: price.amount * values.n }, locale) })}
        </Typography.Text>
      )}
      {creation.isError && (
        <Alert
          type="error"
          showIcon
          closable={{ onClose: () => creation.reset() }}
          title={errorText(creation.error)}
          className={styles.formAlert}
          role="alert"
        />
      )}
    </Form>
  );
}
