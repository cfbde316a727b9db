/** The product mark (same drawing as the app icon). Decorative: always next to the product name. */
export function Logo({ size = 32 }: { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 64 64" aria-hidden="true" focusable="false">
      <defs>
        <linearGradient id="bh-logo-g" x1="0" y1="0" x2="1" y2="1">
          <stop offset="0" stopColor="#7b6cf6" />
          <stop offset="1" stopColor="#4f46e5" />
        </linearGradient>
      </defs>
      <rect width="64" height="64" rx="16" fill="url(#bh-logo-g)" />
      <path
        d="M18 40c0-9 6-18 14-22 8 4 14 13 14 22"
        fill="none"
        stroke="#fff"
        strokeWidth="5"
        strokeLinecap="round"
      />
      <circle cx="32" cy="44" r="5" fill="#fff" />
    </svg>
  );
}
