import { useEffect, useState } from 'react';
import QRCode from 'qrcode';
import styles from './mfa.module.css';

/** The otpauth:// URI as a QR code, drawn here in the browser (nothing is fetched). */
export function QrCode({ value, label }: { value: string; label: string }) {
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    let alive = true;
    QRCode.toDataURL(value, { errorCorrectionLevel: 'M', margin: 2, width: 200 })
      .then((url) => {
        if (alive) setSrc(url);
      })
      .catch(() => {
        if (alive) setSrc(null);
      });
    return () => {
      alive = false;
    };
  }, [value]);
  if (!src) return <div className={styles.qr} aria-busy="true" />;
  return <img className={styles.qr} src={src} alt={label} width={200} height={200} />;
}

/** The base32 key in groups of four, as authenticator apps show it (they ignore the spaces). */
export function groupSecret(secret: string): string {
  return (secret.match(/.{1,4}/g) ?? []).join(' ');
}
