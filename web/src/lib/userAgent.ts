/** A short "Browser · OS" label for a User-Agent string; empty when nothing is recognised. */
export function describeUserAgent(ua: string | null | undefined): { browser: string; os: string; mobile: boolean } {
  const s = ua ?? '';
  const browser =
    (/Edg(e|A|iOS)?\//.test(s) && 'Edge') ||
    (/OPR\/|Opera/.test(s) && 'Opera') ||
    (/SamsungBrowser\//.test(s) && 'Samsung Internet') ||
    (/MicroMessenger\//.test(s) && 'WeChat') ||
    (/Firefox\/|FxiOS\//.test(s) && 'Firefox') ||
    (/Chrome\/|CriOS\//.test(s) && 'Chrome') ||
    (/Safari\//.test(s) && /Version\//.test(s) && 'Safari') ||
    (/curl\//.test(s) && 'curl') ||
    '';
  const os =
    (/iPhone|iPad|iPod/.test(s) && 'iOS') ||
    (/Android/.test(s) && 'Android') ||
    (/Windows/.test(s) && 'Windows') ||
    (/Mac OS X|Macintosh/.test(s) && 'macOS') ||
    (/CrOS/.test(s) && 'ChromeOS') ||
    (/Linux/.test(s) && 'Linux') ||
    '';
  return { browser, os, mobile: /Mobi|iPhone|Android/.test(s) };
}
