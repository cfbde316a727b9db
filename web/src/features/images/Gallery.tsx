import { useEffect, useMemo, useRef } from 'react';
import { Button, Empty, Result, Skeleton, Spin, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { useErrorText } from '../../components/useErrorText';
import { flattenGenerations } from './cache';
import { GenerationCard, type GenerationCardProps } from './GenerationCard';
import { useListGenerationsInfiniteQuery } from './imagesApi';
import styles from './images.module.css';

type Actions = Omit<GenerationCardProps, 'generation'>;

function LoadingCards() {
  return (
    <>
      {[0, 1].map((i) => (
        <div key={i} className={styles.card} aria-hidden="true">
          <Skeleton active title={false} paragraph={{ rows: 2 }} />
          <div className={styles.grid}>
            {[0, 1].map((j) => (
              <div key={j} className={styles.tilePending} />
            ))}
          </div>
        </div>
      ))}
    </>
  );
}

/** The user's generations, newest first, with the next page loaded as the end comes into view. */
export function Gallery(actions: Actions) {
  const { t } = useTranslation();
  const errorText = useErrorText();
  const list = useListGenerationsInfiniteQuery();
  const generations = useMemo(() => flattenGenerations(list.data?.pages), [list.data]);
  const { hasNextPage, isFetchingNextPage, isFetching, fetchNextPage } = list;

  const sentinel = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = sentinel.current;
    if (!el || !hasNextPage) return undefined;
    const io = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting) && !isFetchingNextPage && !isFetching) void fetchNextPage();
      },
      { rootMargin: '400px' },
    );
    io.observe(el);
    return () => io.disconnect();
  }, [hasNextPage, isFetchingNextPage, isFetching, fetchNextPage]);

  let body;
  if (list.isLoading) {
    body = <LoadingCards />;
  } else if (list.isError && generations.length === 0) {
    body = (
      <Result
        status="warning"
        title={t('images.loadFailed')}
        subTitle={errorText(list.error)}
        extra={<Button onClick={() => list.refetch()}>{t('common.retry')}</Button>}
      />
    );
  } else if (generations.length === 0) {
    body = (
      <Empty className={styles.empty} image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('images.empty')}>
        <Typography.Text type="secondary">{t('images.emptyHint')}</Typography.Text>
      </Empty>
    );
  } else {
    body = generations.map((g) => <GenerationCard key={g.id} generation={g} {...actions} />);
  }

  return (
    <div className={styles.gallery} aria-busy={list.isFetching}>
      {body}
      <div ref={sentinel} className={styles.sentinel} />
      {isFetchingNextPage && (
        <div className={styles.more}>
          <Spin size="small" />
        </div>
      )}
      {!hasNextPage && generations.length > 6 && (
        <Typography.Text type="secondary" className={styles.end}>
          {t('images.end')}
        </Typography.Text>
      )}
    </div>
  );
}
