import { useMemo, useState } from 'react';
import { App, Button, Form, Input, Modal, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { useErrorText } from '../../components/useErrorText';
import { isApiError } from '../../lib/apiError';
import { fieldFromServerMessage } from '../../lib/validation';
import { kindOf, limitText, parseLimit, type LimitField, type LimitValues } from './limitRules';
import styles from './limits.module.css';

export interface LimitGroup<F extends LimitField> {
  title?: string;
  fields: readonly F[];
}

interface Props<F extends LimitField> {
  /** Open with these stored values; null = closed. */
  initial: LimitValues<F> | null;
  title: string;
  hint: string;
  /** What applies to an empty field (its placeholder): the role's default, the owner's limits. */
  emptyText: string;
  groups: readonly LimitGroup<F>[];
  savedText: string;
  /** Sends every field (null = none of its own); rejects with the server's error. */
  onSave: (values: LimitValues<F>) => Promise<unknown>;
  onClose: () => void;
}

/**
 * Edits a set of limits: one text field each, checked as the server would, empty for none of
 * its own. A 400 naming a field lands on that field; any other failure is a message.
 */
export function LimitsDialog<F extends LimitField>({ initial, title, hint, emptyText, groups, savedText, onSave, onClose }: Props<F>) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const errorText = useErrorText();
  const [form] = Form.useForm<Record<string, string>>();
  const [saving, setSaving] = useState(false);
  const fields = useMemo(() => groups.flatMap((g) => g.fields), [groups]);
  const texts = useMemo(
    () => Object.fromEntries(fields.map((f) => [f, limitText(initial?.[f])])) as Record<string, string>,
    [fields, initial],
  );

  // A stored value is kept as it is when left alone (the server accepted it once).
  const valueOf = (f: F, text: string | undefined) => {
    if ((text ?? '') === texts[f]) return initial?.[f] ?? null;
    const p = parseLimit(text, kindOf(f));
    return p.ok ? p.value : null;
  };

  const submit = async (typed: Record<string, string>) => {
    const values = Object.fromEntries(fields.map((f) => [f, valueOf(f, typed[f])])) as LimitValues<F>;
    setSaving(true);
    try {
      await onSave(values);
      message.success(savedText);
      onClose();
    } catch (e) {
      const field = isApiError(e) && e.code === 'validation_failed' ? fieldFromServerMessage(e.message, fields) : null;
      if (field) form.setFields([{ name: field, errors: [t(`limits.rule_${kindOf(field)}`)] }]);
      else message.error(errorText(e));
    } finally {
      setSaving(false);
    }
  };

  return (
    <Modal
      open={!!initial}
      title={title}
      okText={t('common.save')}
      cancelText={t('common.cancel')}
      confirmLoading={saving}
      onOk={() => form.submit()}
      onCancel={onClose}
      destroyOnHidden
    >
      <div className={styles.head}>
        <Typography.Text type="secondary">{hint}</Typography.Text>
        <Button
          type="link"
          size="small"
          className={styles.clearAll}
          onClick={() => form.setFieldsValue(Object.fromEntries(fields.map((f) => [f, ''])))}
        >
          {t('limits.clearAll')}
        </Button>
      </div>
      <Form form={form} layout="vertical" requiredMark={false} initialValues={texts} onFinish={submit} clearOnDestroy>
        {groups.map((g, i) => (
          <section key={i} className={styles.group}>
            {g.title && <Typography.Text strong className={styles.groupTitle}>{g.title}</Typography.Text>}
            <div className={styles.pair}>
              {g.fields.map((f) => {
                const kind = kindOf(f);
                return (
                  <Form.Item
                    key={f}
                    name={f as string}
                    label={t(`limits.field.${f}`)}
                    className={styles.item}
                    rules={[
                      {
                        validator: async (_, value: string | undefined) => {
                          if ((value ?? '') === texts[f]) return;
                          const p = parseLimit(value, kind);
                          if (!p.ok) throw new Error(t(`limits.problem.${p.problem}`));
                        },
                      },
                    ]}
                  >
                    <Input
                      allowClear
                      autoComplete="off"
                      inputMode={kind === 'cny' ? 'decimal' : 'numeric'}
                      prefix={kind === 'cny' ? '¥' : undefined}
                      placeholder={emptyText}
                    />
                  </Form.Item>
                );
              })}
            </div>
          </section>
        ))}
      </Form>
    </Modal>
  );
}
