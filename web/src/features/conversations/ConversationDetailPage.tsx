import { useEffect, useState } from 'react';
import { App, Button, Card, Descriptions, Form, Input, Result, Skeleton, Space } from 'antd';
import { DeleteOutlined, DownloadOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { useNavigate, useParams } from 'react-router';
import { useAppDispatch, useAppSelector } from '../../app/hooks';
import { TopBar } from '../../components/TopBar';
import { useErrorText } from '../../components/useErrorText';
import { isApiError } from '../../lib/apiError';
import { formatDateTime, formatNumber } from '../../lib/format';
import { ModelPicker } from '../models/ModelPicker';
import {
  useDeleteConversationMutation,
  useGetConversationQuery,
  useUpdateConversationMutation,
} from './conversationsApi';
import { ConversationImages } from './ConversationImages';
import { exportConversation, type ExportFormat } from './exportConversation';
import { TITLE_MAX } from './RenameDialog';
import styles from './detail.module.css';

const SYSTEM_PROMPT_MAX = 8000;

interface DetailValues {
  title: string;
  model?: string;
  system_prompt: string;
}

export function ConversationDetailPage() {
  const { t } = useTranslation();
  const { conversationId = '' } = useParams();
  const navigate = useNavigate();
  const dispatch = useAppDispatch();
  const { message, modal } = App.useApp();
  const errorText = useErrorText();
  const locale = useAppSelector((s) => s.prefs.language);
  const { data, isLoading, isError, error, refetch } = useGetConversationQuery(conversationId);
  const [update, { isLoading: saving }] = useUpdateConversationMutation();
  const [remove] = useDeleteConversationMutation();
  const [form] = Form.useForm<DetailValues>();
  const [dirty, setDirty] = useState(false);
  const [exporting, setExporting] = useState<ExportFormat | null>(null);

  useEffect(() => {
    if (!data) return;
    form.setFieldsValue({ title: data.title ?? '', model: data.model ?? undefined, system_prompt: data.system_prompt ?? '' });
    setDirty(false);
  }, [data, form]);

  const back = () => navigate(`/c/${conversationId}`);

  const onSave = async (values: DetailValues) => {
    try {
      await update({
        id: conversationId,
        patch: { title: values.title.trim(), system_prompt: values.system_prompt, ...(values.model ? { model: values.model } : {}) },
      }).unwrap();
      setDirty(false);
      message.success(t('common.saved'));
    } catch (e) {
      message.error(errorText(e));
    }
  };

  const onExport = async (format: ExportFormat) => {
    setExporting(format);
    const err = await dispatch(exportConversation(conversationId, data?.title || t('chat.untitled'), format));
    setExporting(null);
    if (err) message.error(errorText(err));
  };

  const onDelete = () => {
    modal.confirm({
      title: t('conversations.deleteTitle'),
      content: t('conversations.deleteBody', { title: data?.title || t('chat.untitled') }),
      okText: t('common.delete'),
      okButtonProps: { danger: true },
      cancelText: t('common.cancel'),
      onOk: async () => {
        try {
          await remove(conversationId).unwrap();
          navigate('/', { replace: true });
        } catch (e) {
          message.error(errorText(e));
        }
      },
    });
  };

  let content;
  if (isLoading) {
    content = (
      <Card>
        <Skeleton active paragraph={{ rows: 6 }} />
      </Card>
    );
  } else if (isError || !data) {
    const missing = isApiError(error) && error.status === 404;
    content = (
      <Result
        status={missing ? '404' : 'warning'}
        title={missing ? t('conversations.notFound') : errorText(error)}
        extra={
          missing ? (
            <Button type="primary" onClick={() => navigate('/')}>
              {t('chat.newChat')}
            </Button>
          ) : (
            <Button onClick={() => refetch()}>{t('common.retry')}</Button>
          )
        }
      />
    );
  } else {
    const inTokens = data.input_tokens ?? 0;
    const outTokens = data.output_tokens ?? 0;
    content = (
      <Space orientation="vertical" size="middle" className={styles.stack}>
        <Card title={t('details.settings')}>
          <Form
            form={form}
            layout="vertical"
            onFinish={onSave}
            onValuesChange={() => setDirty(true)}
            requiredMark={false}
          >
            <Form.Item name="title" label={t('conversations.titleLabel')} rules={[{ max: TITLE_MAX }]}>
              <Input maxLength={TITLE_MAX} placeholder={t('chat.untitled')} />
            </Form.Item>
            <Form.Item name="model" label={t('models.label')}>
              <ModelPicker />
            </Form.Item>
            <Form.Item
              name="system_prompt"
              className={styles.promptItem}
              label={t('details.systemPrompt')}
              extra={t('details.systemPromptHint')}
              rules={[{ max: SYSTEM_PROMPT_MAX }]}
            >
              <Input.TextArea autoSize={{ minRows: 3, maxRows: 14 }} maxLength={SYSTEM_PROMPT_MAX} showCount />
            </Form.Item>
            <Button type="primary" htmlType="submit" loading={saving} disabled={!dirty}>
              {t('common.save')}
            </Button>
          </Form>
        </Card>
        <Card title={t('details.summary')}>
          <Descriptions column={{ xs: 1, sm: 2 }} size="small">
            <Descriptions.Item label={t('details.created')}>{formatDateTime(data.created_at, locale)}</Descriptions.Item>
            <Descriptions.Item label={t('details.updated')}>{formatDateTime(data.updated_at, locale)}</Descriptions.Item>
            <Descriptions.Item label={t('details.messages')}>{formatNumber(data.message_count, locale)}</Descriptions.Item>
            <Descriptions.Item label={t('details.totalTokens')}>
              {formatNumber(inTokens + outTokens, locale)}
            </Descriptions.Item>
            <Descriptions.Item label={t('details.inputTokens')}>{formatNumber(data.input_tokens, locale)}</Descriptions.Item>
            <Descriptions.Item label={t('details.outputTokens')}>{formatNumber(data.output_tokens, locale)}</Descriptions.Item>
          </Descriptions>
        </Card>
        <ConversationImages conversationId={conversationId} />
        <Card title={t('details.export')}>
          <Space wrap>
            <Button icon={<DownloadOutlined />} loading={exporting === 'markdown'} onClick={() => void onExport('markdown')}>
              {t('details.exportMarkdown')}
            </Button>
            <Button icon={<DownloadOutlined />} loading={exporting === 'json'} onClick={() => void onExport('json')}>
              {t('details.exportJson')}
            </Button>
          </Space>
        </Card>
        <Card title={t('details.danger')}>
          <Button danger icon={<DeleteOutlined />} onClick={onDelete}>
            {t('conversations.delete')}
          </Button>
        </Card>
      </Space>
    );
  }

  return (
    <div className={styles.page}>
      <TopBar title={t('details.title')} onBack={back} />
      <div className={styles.scroll}>
        <div className={styles.inner}>{content}</div>
      </div>
    </div>
  );
}
