import { useCallback, useMemo, useRef, useState } from 'react';
import { App, Form, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { TopBar } from '../../components/TopBar';
import { useErrorText } from '../../components/useErrorText';
import { flattenGenerations } from './cache';
import type { ImageFormValues } from './form';
import { Gallery } from './Gallery';
import { GenerateForm } from './GenerateForm';
import { ImageViewer } from './ImageViewer';
import { useDeleteGenerationMutation, useListGenerationsInfiniteQuery } from './imagesApi';
import type { Generation } from './types';
import styles from './images.module.css';

/** /images: the form (above on phones, beside on wider screens) and the gallery of the user's images. */
export function ImagesPage() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const errorText = useErrorText();
  const [form] = Form.useForm<ImageFormValues>();
  const formPanel = useRef<HTMLElement>(null);
  const galleryPanel = useRef<HTMLElement>(null);
  const [viewing, setViewing] = useState<{ generationId: string; imageId: string } | null>(null);
  const list = useListGenerationsInfiniteQuery();
  const generations = useMemo(() => flattenGenerations(list.data?.pages), [list.data]);
  const viewed = viewing ? generations.find((g) => g.id === viewing.generationId) : undefined;
  const [deleteGeneration] = useDeleteGenerationMutation();

  // On a phone the gallery is below the form: show the new generation's progress.
  const onCreated = useCallback(() => {
    if (window.matchMedia?.('(max-width: 767px)').matches) {
      galleryPanel.current?.scrollIntoView({ block: 'start', behavior: 'smooth' });
    }
  }, []);

  const onOpen = useCallback((generationId: string, imageId: string) => setViewing({ generationId, imageId }), []);

  const onReuse = useCallback(
    (g: Generation) => {
      form.setFieldsValue({
        prompt: g.prompt,
        negativePrompt: g.negative_prompt ?? '',
        model: g.model,
        size: g.size,
        n: g.n,
        seed: null,
      });
      setViewing(null);
      formPanel.current?.scrollIntoView({ block: 'start', behavior: 'smooth' });
      form.focusField('prompt');
      message.info(t('images.reused'));
    },
    [form, message, t],
  );

  const onDelete = useCallback(
    async (g: Generation) => {
      try {
        await deleteGeneration(g.id).unwrap();
        setViewing((v) => (v?.generationId === g.id ? null : v));
        message.success(t('images.viewer.deleted'));
      } catch (e) {
        message.error(errorText(e));
      }
    },
    [deleteGeneration, message, t, errorText],
  );

  return (
    <div className={styles.page}>
      <TopBar title={t('images.title')} />
      <div className={styles.scroll}>
        <div className={styles.layout}>
          <section ref={formPanel} className={styles.formPanel} aria-labelledby="images-form-title">
            <Typography.Title level={2} id="images-form-title" className={styles.sectionTitle}>
              {t('images.formTitle')}
            </Typography.Title>
            <GenerateForm form={form} onCreated={onCreated} />
          </section>
          <section ref={galleryPanel} className={styles.galleryPanel} aria-labelledby="images-gallery-title">
            <Typography.Title level={2} id="images-gallery-title" className={styles.sectionTitle}>
              {t('images.gallery')}
            </Typography.Title>
            <Gallery onOpen={onOpen} onReuse={onReuse} onDelete={onDelete} />
          </section>
        </div>
      </div>
      <ImageViewer
        generation={viewed}
        imageId={viewing?.imageId}
        onClose={() => setViewing(null)}
        onShow={(imageId) => setViewing((v) => (v ? { ...v, imageId } : v))}
        onReuse={onReuse}
        onDelete={onDelete}
      />
    </div>
  );
}
