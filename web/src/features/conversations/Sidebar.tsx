import { cloneElement, isValidElement, useEffect, useMemo, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import { App, Avatar, Button, Dropdown, Empty, Input, Result, Spin, Typography } from 'antd';
import {
  ApiOutlined,
  BarChartOutlined,
  ControlOutlined,
  DeleteOutlined,
  EditOutlined,
  InfoCircleOutlined,
  LogoutOutlined,
  PictureOutlined,
  PlusOutlined,
  PushpinFilled,
  PushpinOutlined,
  SearchOutlined,
  SettingOutlined,
} from '@ant-design/icons';
import Conversations from '@ant-design/x/es/conversations';
import type { ConversationItemType } from '@ant-design/x/es/conversations';
import { useTranslation } from 'react-i18next';
import { useMatch, useNavigate } from 'react-router';
import { useAppDispatch, useAppSelector } from '../../app/hooks';
import type { Conversation } from '../../app/apiTypes';
import { Logo } from '../../components/Logo';
import { useErrorText } from '../../components/useErrorText';
import { adminTabsFor } from '../admin/adminTabs';
import { signOut } from '../auth/authApi';
import {
  orderConversations,
  useDeleteConversationMutation,
  useListConversationsInfiniteQuery,
  useUpdateConversationMutation,
} from './conversationsApi';
import { RenameDialog } from './RenameDialog';
import styles from './sidebar.module.css';

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const id = setTimeout(() => setV(value), ms);
    return () => clearTimeout(id);
  }, [value, ms]);
  return v;
}

export interface SidebarProps {
  /** Called after the sidebar navigated somewhere (closes the phone drawer). */
  onNavigate?: () => void;
}

export function Sidebar({ onNavigate }: SidebarProps) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const dispatch = useAppDispatch();
  const { modal, message } = App.useApp();
  const errorText = useErrorText();
  const user = useAppSelector((s) => s.auth.user);
  const match = useMatch('/c/:conversationId/*');
  const activeId = match?.params.conversationId;
  const onImages = useMatch('/images') !== null;

  const [search, setSearch] = useState('');
  const q = useDebounced(search.trim(), 250);
  const list = useListConversationsInfiniteQuery({ q });
  const conversations = useMemo(() => orderConversations(list.data?.pages), [list.data]);
  const [updateConversation] = useUpdateConversationMutation();
  const [deleteConversation] = useDeleteConversationMutation();
  const [renaming, setRenaming] = useState<Conversation | null>(null);

  // Infinite scroll: load the next page when the sentinel below the list comes into view.
  const sentinel = useRef<HTMLDivElement>(null);
  const { hasNextPage, isFetchingNextPage, fetchNextPage, isFetching } = list;
  useEffect(() => {
    const el = sentinel.current;
    if (!el || !hasNextPage) return;
    const io = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting) && !isFetchingNextPage && !isFetching) void fetchNextPage();
      },
      { rootMargin: '200px' },
    );
    io.observe(el);
    return () => io.disconnect();
  }, [hasNextPage, isFetchingNextPage, isFetching, fetchNextPage]);

  const go = (path: string) => {
    navigate(path);
    onNavigate?.();
  };

  const byId = useMemo(() => new Map(conversations.map((c) => [c.id, c])), [conversations]);
  const items: ConversationItemType[] = conversations.map((c) => ({
    key: c.id,
    label: c.title || t('chat.untitled'),
    group: c.pinned ? 'pinned' : 'recent',
    icon: c.pinned ? <PushpinFilled aria-label={t('conversations.pinned')} /> : undefined,
    title: c.title || t('chat.untitled'),
    // The list items are clickable <li>s: make them reachable and usable from the keyboard.
    tabIndex: 0,
    'aria-current': c.id === activeId ? 'page' : undefined,
    onKeyDown: (e: KeyboardEvent<HTMLLIElement>) => {
      if ((e.key === 'Enter' || e.key === ' ') && e.target === e.currentTarget) {
        e.preventDefault();
        go(`/c/${c.id}`);
      }
    },
  }));
  const hasPinned = conversations.some((c) => c.pinned);

  const confirmDelete = (c: Conversation) => {
    modal.confirm({
      title: t('conversations.deleteTitle'),
      content: t('conversations.deleteBody', { title: c.title || t('chat.untitled') }),
      okText: t('common.delete'),
      okButtonProps: { danger: true },
      cancelText: t('common.cancel'),
      onOk: async () => {
        try {
          await deleteConversation(c.id).unwrap();
          if (activeId === c.id) go('/');
        } catch (e) {
          message.error(errorText(e));
        }
      },
    });
  };

  const menuFor = (item: ConversationItemType) => {
    const c = byId.get(item.key);
    return {
      // A real button with a name (the library's default is a bare icon).
      trigger: (_: ConversationItemType, { originNode }: { originNode: ReactNode }) => (
        <button
          type="button"
          className={styles.itemMenu}
          aria-label={t('conversations.actions', { title: c?.title || t('chat.untitled') })}
          aria-haspopup="menu"
        >
          {/* The library's icon (its classes fade it in on hover) without its own click
              handler, which would stop the click before it reaches this button. */}
          {isValidElement<{ onClick?: unknown }>(originNode) ? cloneElement(originNode, { onClick: undefined }) : originNode}
        </button>
      ),
      items: [
        { key: 'rename', icon: <EditOutlined />, label: t('conversations.rename') },
        {
          key: 'pin',
          icon: c?.pinned ? <PushpinOutlined /> : <PushpinFilled />,
          label: c?.pinned ? t('conversations.unpin') : t('conversations.pin'),
        },
        { key: 'details', icon: <InfoCircleOutlined />, label: t('conversations.details') },
        { type: 'divider' as const },
        { key: 'delete', icon: <DeleteOutlined />, label: t('common.delete'), danger: true },
      ],
      onClick: async ({ key, domEvent }: { key: string; domEvent: { stopPropagation: () => void } }) => {
        domEvent.stopPropagation();
        if (!c) return;
        if (key === 'rename') setRenaming(c);
        else if (key === 'details') go(`/c/${c.id}/details`);
        else if (key === 'delete') confirmDelete(c);
        else if (key === 'pin') {
          try {
            await updateConversation({ id: c.id, patch: { pinned: !c.pinned } }).unwrap();
          } catch (e) {
            message.error(errorText(e));
          }
        }
      },
    };
  };

  let body;
  if (list.isLoading) {
    body = (
      <div className={styles.state}>
        <Spin />
      </div>
    );
  } else if (list.isError && conversations.length === 0) {
    body = (
      <Result
        className={styles.stateResult}
        status="warning"
        subTitle={errorText(list.error)}
        extra={
          <Button size="small" onClick={() => list.refetch()}>
            {t('common.retry')}
          </Button>
        }
      />
    );
  } else if (conversations.length === 0) {
    body = (
      <Empty
        className={styles.state}
        image={Empty.PRESENTED_IMAGE_SIMPLE}
        description={q ? t('conversations.noMatches') : t('conversations.empty')}
      />
    );
  } else {
    body = (
      <Conversations
        className={styles.list}
        items={items}
        activeKey={activeId}
        onActiveChange={(key) => go(`/c/${key}`)}
        menu={menuFor}
        groupable={
          hasPinned
            ? { label: (group) => (group === 'pinned' ? t('conversations.pinned') : t('conversations.recent')) }
            : false
        }
      />
    );
  }

  const name = user?.display_name || user?.username || '';

  return (
    <nav className={styles.sidebar} aria-label={t('nav.conversations')}>
      <div className={styles.brand}>
        <Logo size={28} />
        <Typography.Text strong className={styles.brandName}>
          {t('app.name')}
        </Typography.Text>
      </div>
      <div className={styles.actions}>
        <Button type="primary" icon={<PlusOutlined />} block onClick={() => go('/')}>
          {t('chat.newChat')}
        </Button>
        <Button
          icon={<PictureOutlined />}
          block
          type={onImages ? 'default' : 'text'}
          className={styles.navButton}
          aria-current={onImages ? 'page' : undefined}
          onClick={() => go('/images')}
        >
          {t('nav.images')}
        </Button>
        <Input
          allowClear
          prefix={<SearchOutlined />}
          placeholder={t('conversations.search')}
          aria-label={t('conversations.search')}
          value={search}
          onChange={(e) => setSearch(e.target.value)}
        />
      </div>
      <div className={styles.scroll} aria-busy={list.isFetching}>
        {body}
        <div ref={sentinel} className={styles.sentinel} />
        {isFetchingNextPage && (
          <div className={styles.more}>
            <Spin size="small" />
          </div>
        )}
      </div>
      <div className={styles.footer}>
        <Dropdown
          trigger={['click']}
          placement="topLeft"
          menu={{
            items: [
              { key: 'history', icon: <BarChartOutlined />, label: t('history.nav') },
              ...(adminTabsFor(user?.role).length
                ? [{ key: 'admin', icon: <ControlOutlined />, label: t('admin.nav') }]
                : []),
              { key: 'settings', icon: <SettingOutlined />, label: t('nav.settings') },
              { key: 'apiDocs', icon: <ApiOutlined />, label: t('nav.apiDocs') },
              { type: 'divider' },
              { key: 'signout', icon: <LogoutOutlined />, label: t('nav.signOut') },
            ],
            onClick: ({ key }) => {
              if (key === 'settings') go('/settings');
              if (key === 'apiDocs') go('/api/docs');
              if (key === 'history') go('/history');
              if (key === 'admin') go('/admin');
              if (key === 'signout') {
                void dispatch(signOut()).then(() => navigate('/login', { replace: true }));
              }
            },
          }}
        >
          <Button type="text" className={styles.userButton} aria-label={t('nav.account', { name })}>
            <Avatar size="small" className={styles.avatar}>
              {name.slice(0, 1).toUpperCase()}
            </Avatar>
            <span className={styles.userName}>{name}</span>
          </Button>
        </Dropdown>
      </div>
      <RenameDialog conversation={renaming} onClose={() => setRenaming(null)} />
    </nav>
  );
}
