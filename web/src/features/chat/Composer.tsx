import { useEffect, useRef, useState, type ClipboardEvent, type DragEvent } from 'react';
import { Alert, App, Button, Tooltip } from 'antd';
import { BulbOutlined, PaperClipOutlined } from '@ant-design/icons';
import Sender from '@ant-design/x/es/sender';
import { useTranslation } from 'react-i18next';
import { useAppDispatch, useAppSelector } from '../../app/hooks';
import type { Attachment } from '../../app/apiTypes';
import { useErrorText } from '../../components/useErrorText';
import { ModelPicker } from '../models/ModelPicker';
import { thinkingToggled } from '../settings/prefsSlice';
import { AttachmentBar, type PendingPicture } from './AttachmentBar';
import { draftChanged } from './draftsSlice';
import { MAX_ATTACHMENTS, MAX_UPLOAD_BYTES, pictureFiles, uploadPicture } from './uploads';
import styles from './chat.module.css';

export interface ComposerProps {
  draftKey: string;
  model: string | undefined;
  /** The chosen model can reason before answering (the Think switch applies). */
  canThink: boolean;
  onModelChange: (model: string) => void;
  streaming: boolean;
  sending: boolean;
  onSend: (text: string, attachments: Attachment[]) => void;
  onStop: () => void;
  /** The chosen model reads images (a vision model). */
  acceptsImages?: boolean;
  /** A vision model to offer when pictures are attached to a text-only one. */
  visionModel?: string;
}

let pictureSeq = 0;

/** The message box: Enter sends, Shift+Enter adds a line, Esc (or the button) stops an answer. */
export function Composer({
  draftKey,
  model,
  canThink,
  onModelChange,
  streaming,
  sending,
  onSend,
  onStop,
  acceptsImages = false,
  visionModel,
}: ComposerProps) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const errorText = useErrorText();
  const dispatch = useAppDispatch();
  const draft = useAppSelector((s) => s.drafts.byKey[draftKey] ?? '');
  const thinking = useAppSelector((s) => s.prefs.thinking);
  const [pictures, setPictures] = useState<PendingPicture[]>([]);
  const [dragging, setDragging] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);
  const count = useRef(0);
  count.current = pictures.length;

  // Previews are object URLs: released when the composer goes away.
  const previews = useRef(new Set<string>());
  useEffect(() => {
    const urls = previews.current;
    return () => urls.forEach((u) => URL.revokeObjectURL(u));
  }, []);

  const update = (key: string, patch: Partial<PendingPicture>) =>
    setPictures((all) => all.map((p) => (p.key === key ? { ...p, ...patch } : p)));

  const addFiles = (chosen: File[]) => {
    const files = pictureFiles(chosen);
    if (!files.length) return;
    const room = MAX_ATTACHMENTS - count.current;
    if (files.length > room) message.warning(t('chat.tooManyImages', { max: MAX_ATTACHMENTS }));
    for (const file of files.slice(0, Math.max(0, room))) {
      pictureSeq += 1;
      const key = `p${pictureSeq}`;
      const preview = URL.createObjectURL(file);
      previews.current.add(preview);
      const tooLarge = file.size > MAX_UPLOAD_BYTES;
      const item: PendingPicture = {
        key,
        name: file.name || t('chat.pastedImage'),
        preview,
        progress: 0,
        ...(tooLarge ? { error: t('chat.imageTooLarge', { mb: MAX_UPLOAD_BYTES >> 20 }) } : {}),
      };
      count.current += 1;
      setPictures((all) => [...all, item]);
      if (tooLarge) continue;
      dispatch(uploadPicture(file, (progress) => update(key, { progress })))
        .then((upload) => update(key, { upload, progress: 100 }))
        .catch((e: unknown) => update(key, { error: errorText(e) }));
    }
  };

  const remove = (key: string) =>
    setPictures((all) => {
      const gone = all.find((p) => p.key === key);
      if (gone) {
        URL.revokeObjectURL(gone.preview);
        previews.current.delete(gone.preview);
      }
      return all.filter((p) => p.key !== key);
    });

  const uploading = pictures.some((p) => !p.upload && !p.error);
  const broken = pictures.some((p) => p.error);
  const needsVision = pictures.length > 0 && !acceptsImages;

  const submit = (text: string) => {
    if (streaming || sending || uploading || broken || needsVision) return;
    if (!text.trim() && !pictures.length) return;
    const attachments = pictures.flatMap((p) => (p.upload ? [{ id: p.upload.id, url: p.upload.url }] : []));
    onSend(text, attachments);
    pictures.forEach((p) => {
      URL.revokeObjectURL(p.preview);
      previews.current.delete(p.preview);
    });
    setPictures([]);
  };

  const onPaste = (e: ClipboardEvent<HTMLDivElement>) => {
    const files = pictureFiles(e.clipboardData?.files);
    if (!files.length) return;
    e.preventDefault();
    addFiles(files);
  };
  const onDragOver = (e: DragEvent<HTMLDivElement>) => {
    if (!Array.from(e.dataTransfer?.types ?? []).includes('Files')) return;
    e.preventDefault();
    setDragging(true);
  };
  const onDrop = (e: DragEvent<HTMLDivElement>) => {
    setDragging(false);
    const files = pictureFiles(e.dataTransfer?.files);
    if (!files.length) return;
    e.preventDefault();
    addFiles(files);
  };

  return (
    <div className={styles.composer}>
      <div
        className={dragging ? `${styles.composerInner} ${styles.dropping}` : styles.composerInner}
        onPaste={onPaste}
        onDragOver={onDragOver}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
        data-testid="composer"
      >
        <input
          ref={fileInput}
          type="file"
          accept="image/*"
          multiple
          hidden
          data-testid="attach-input"
          aria-label={t('chat.attach')}
          onChange={(e) => {
            addFiles(Array.from(e.target.files ?? []));
            e.target.value = '';
          }}
        />
        <AttachmentBar items={pictures} onRemove={remove} />
        {needsVision && (
          <Alert
            className={styles.visionHint}
            type="info"
            showIcon
            title={t('chat.needsVision', { model: model ?? '' })}
            action={
              visionModel ? (
                <Button size="small" type="primary" onClick={() => onModelChange(visionModel)}>
                  {t('chat.useVisionModel', { model: visionModel })}
                </Button>
              ) : undefined
            }
          />
        )}
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
          prefix={
            // A plain title, not a tooltip: a tooltip stays up while the file chooser is open
            // and would cover the thumbnails that appear right above the button.
            <Button
              type="text"
              icon={<PaperClipOutlined />}
              aria-label={t('chat.attach')}
              title={t('chat.attachHint')}
              disabled={pictures.length >= MAX_ATTACHMENTS}
              onClick={() => fileInput.current?.click()}
            />
          }
          suffix={(_, { components: { SendButton, LoadingButton } }) =>
            streaming || sending ? (
              <Tooltip title={t('chat.stop')}>
                <LoadingButton aria-label={t('chat.stop')} disabled={sending && !streaming} />
              </Tooltip>
            ) : (
              <SendButton
                aria-label={t('chat.send')}
                disabled={uploading || broken || needsVision || (!draft.trim() && !pictures.length)}
              />
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
