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
  /** The chosen model can reason before answering (the Think switch applies). */
  canThink: boolean;
  onModelChange: (model: string) => void;
  streaming: boolean;
  sending: boolean;
  onSend: (text: string) => void;
  onStop: () => void;
}

/** The message box: Enter sends, Shift+Enter adds a line, Esc (or the button) stops an answer. */
export function Composer({ draftKey, model, canThink, onModelChange, streaming, sending, onSend, onStop }: ComposerProps) {
  const { t } = useTranslation();
  const dispatch = useAppDispatch();
  const draft = useAppSelector((s) => s.drafts.byKey[draftKey] ?? '');
  const thinking = useAppSelector((s) => s.prefs.thinking);
  const submit = (text: string) => {
    if (!streaming && !sending && text.trim()) onSend(text);
  };

  return (
    <div className={styles.composer}>
      <div className={styles.composerInner}>
        <Sender
          value={draft}
          onChange={(text) => dispatch(draftChanged({ key: draftKey, text }))}
          onSubmit={submit}
          onKeyDown={(e) => {
            // Enter is handled here, from the text as it is now: the library's own Enter path
            // checks a "send disabled" flag that its button updates one effect later, so an
            // Enter right after typing or pasting could be dropped.
            const native = e.nativeEvent as KeyboardEvent;
            if (e.key !== 'Enter' || e.shiftKey || e.ctrlKey || e.altKey || e.metaKey) return undefined;
            if (native.isComposing || native.keyCode === 229) return false; // IME confirming a word
            e.preventDefault();
            submit((e.target as HTMLTextAreaElement).value ?? draft);
            return false;
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
              <Tooltip title={canThink ? t('chat.thinkingHint') : t('chat.thinkingUnsupported')}>
                <Button
                  size="small"
                  shape="round"
                  type={thinking && canThink ? 'primary' : 'default'}
                  ghost={thinking && canThink}
                  icon={<BulbOutlined />}
                  aria-pressed={thinking && canThink}
                  disabled={!canThink}
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
