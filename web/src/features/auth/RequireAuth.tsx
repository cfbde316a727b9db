import { Navigate, Outlet, useLocation } from 'react-router';
import { useAppSelector } from '../../app/hooks';

export interface SignInState {
  from?: string;
  expired?: boolean;
}

/** Pages below need a session; without one, go to sign-in and come back afterwards. */
export function RequireAuth() {
  const status = useAppSelector((s) => s.auth.status);
  const expired = useAppSelector((s) => s.auth.expired);
  const location = useLocation();
  if (status !== 'authenticated') {
    const state: SignInState = { from: location.pathname + location.search, expired };
    return <Navigate to="/login" replace state={state} />;
  }
  return <Outlet />;
}
