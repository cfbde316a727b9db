import { Button, Tooltip } from 'antd';
import { BulbOutlined } from '@ant-design/icons';
import Sender from '@ant-design/x/es/sender';
import { useTranslation } from 'react-i18next';
import { useAppDispatch, useAppSelector } from '../../app/hooks';
import { ModelPicker } from '../models/ModelPicker';
import { thinkingToggled } from '../settings/prefsSlice';
import { draftChanged } from './draftsSlice';
import styles from './chat.module.css';

export interface ComposerProps {
  draftKey: string;
  model: string | undefined;
  onModelChange: (model: string) => void;
  streaming: boolean;
  sending: boolean;
  onSend: (text: string) => void;
  onStop: () => void;
}

/** The message box: Enter sends, Shift+Enter adds a line, Esc (or the button) stops an answer. */
export function Composer({ draftKey, model, onModelChange, streaming, sending, onSend, onStop }: ComposerProps) {
  const { t } = useTranslation();
  const dispatch = useAppDispatch();
  const draft = useAppSelector((s) => s.drafts.byKey[draftKey] ?? '');
  const thinking = useAppSelector((s) => s.prefs.thinking);

  return (
    <div className={styles.composer}>
      <div className={styles.composerInner}>
        <Sender
          value={draft}
          onChange={(text) => dispatch(draftChanged({ key: draftKey, text }))}
          onSubmit={(text) => {
            if (!streaming && !sending && text.trim()) onSend(text);
          }}
          onCancel={onStop}
          loading={streaming || sending}
          submitType="enter"
          autoSize={{ minRows: 1, maxRows: 8 }}
          placeholder={t('chat.placeholder')}
          aria-label={t('chat.inputLabel')}
          suffix={(_, { components: { SendButton, LoadingButton } }) =>
            streaming || sending ? (
              <Tooltip title={t('chat.stop')}>
                <LoadingButton aria-label={t('chat.stop')} disabled={sending && !streaming} />
              </Tooltip>
            ) : (
              <SendButton aria-label={t('chat.send')} />
            )
          }
          footer={
            <div className={styles.composerFooter}>
              <ModelPicker compact value={model} onChange={onModelChange} />
              <Tooltip title={t('chat.thinkingHint')}>
                <Button
                  size="small"
                  shape="round"
                  type={thinking ? 'primary' : 'default'}
                  ghost={thinking}
                  icon={<BulbOutlined />}
                  aria-pressed={thinking}
                  onClick={() => dispatch(thinkingToggled(!thinking))}
                >
                  {t('chat.thinkingToggle')}
                </Button>
              </Tooltip>
            </div>
          }
        />
        <div className={styles.hint} aria-hidden="true">
          {streaming ? t('chat.hintStop') : t('chat.hintKeys')}
        </div>
      </div>
    </div>
  );
}
