import { useEffect, useRef, useState } from 'react';
import { Button, Tooltip, type ButtonProps } from 'antd';
import { CheckOutlined, CopyOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';

export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Older browsers / insecure contexts.
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.className = 'visually-hidden';
    document.body.appendChild(area);
    area.select();
    const ok = document.execCommand('copy');
    area.remove();
    return ok;
  }
}

export interface CopyButtonProps {
  text: string;
  size?: ButtonProps['size'];
  label?: string;
}

export function CopyButton({ text, size, label }: CopyButtonProps) {
  const { t } = useTranslation();
  const [copied, setCopied] = useState(false);
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  const title = copied ? t('common.copied') : (label ?? t('common.copy'));
  return (
    <Tooltip title={title}>
      <Button
        type="text"
        size={size}
        aria-label={title}
        icon={copied ? <CheckOutlined /> : <CopyOutlined />}
        onClick={async () => {
          if (await copyText(text)) {
            setCopied(true);
            clearTimeout(timer.current);
            timer.current = setTimeout(() => setCopied(false), 1500);
          }
        }}
      />
    </Tooltip>
  );
}
