// /api/docs: the hub's API reference (docs/openapi.yaml, served at /api/v1/openapi.json),
// rendered by Swagger UI. Its bundle is only loaded on this page (the route is lazy), and it
// needs nothing from the network but the hub. "Try it out" calls go to this hub with the
// signed-in user's access token, unless the user authorizes with a platform key instead.
import { Typography } from 'antd';
import { useCallback, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import SwaggerUI from 'swagger-ui-react';
import 'swagger-ui-react/swagger-ui.css';
import { useAppSelector } from '../../app/hooks';
import pageStyles from '../../components/page.module.css';
import { withSessionToken } from './authorize';
import styles from './apiDocs.module.css';

export const OPENAPI_URL = '/api/v1/openapi.json';

export function ApiDocsPage() {
  const { t } = useTranslation();
  const token = useAppSelector((s) => s.auth.accessToken);
  // Read at call time: the access token is refreshed while the page is open.
  const tokenRef = useRef(token);
  tokenRef.current = token;
  const intercept = useCallback(
    (req: { [k: string]: unknown }) => withSessionToken(req as { headers: Record<string, string> }, tokenRef.current),
    [],
  );
  return (
    <div className={pageStyles.page}>
      <Typography.Title level={2}>{t('apiDocs.title')}</Typography.Title>
      <div className={styles.reference}>
        <SwaggerUI url={OPENAPI_URL} requestInterceptor={intercept} tryItOutEnabled={false} deepLinking persistAuthorization={false} />
      </div>
    </div>
  );
}
