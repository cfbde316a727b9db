import { useEffect, useState } from 'react';
import { useStore } from 'react-redux';
import { API_BASE } from '../../app/api';
import type { Upload } from '../../app/apiTypes';
import type { AppDispatch, AppThunk, RootState } from '../../app/store';
import { endExpiredSession, refreshSession } from '../auth/session';
import { networkError, toApiError } from '../../lib/apiError';

/** Pictures one message may carry (the hub's default uploads.max_attachments). */
export const MAX_ATTACHMENTS = 4;
/** The hub's default upload limit; larger files are refused here before any byte is sent. */
export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
export const ACCEPTED_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/gif'];

/** The picture files among dropped or pasted items (the hub checks the bytes again). */
export function pictureFiles(files: Iterable<File> | ArrayLike<File> | null | undefined): File[] {
  return Array.from(files ?? []).filter((f) => f.type.startsWith('image/'));
}

function send(file: File, token: string | null, onProgress: (percent: number) => void): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `${API_BASE}/files`);
    if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(Math.round((e.loaded / e.total) * 100));
    };
    xhr.onload = () => {
      let body: unknown = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      resolve({ status: xhr.status, body });
    };
    xhr.onerror = () => reject(networkError('upload failed'));
    const form = new FormData();
    form.append('file', file, file.name || 'picture');
    xhr.send(form);
  });
}

/**
 * Uploads one picture (multipart, with upload progress through XMLHttpRequest) and resolves
 * the stored Upload; rejects with an ApiError. One silent session refresh on a 401.
 */
export function uploadPicture(file: File, onProgress: (percent: number) => void): AppThunk<Promise<Upload>> {
  return async (dispatch, getState) => {
    let r = await send(file, getState().auth.accessToken, onProgress);
    if (r.status === 401 && getState().auth.status === 'authenticated') {
      const outcome = await refreshSession(dispatch as AppDispatch);
      if (outcome === 'ok') r = await send(file, getState().auth.accessToken, onProgress);
      else if (outcome === 'rejected') endExpiredSession(dispatch as AppDispatch);
    }
    if (r.status === 201) return r.body as Upload;
    throw toApiError(r.status, r.body);
  };
}

/** Object URLs of fetched files, kept for the session (the files never change). */
const objectUrls = new Map<string, Promise<string>>();

/** The picture at an owner-only /api/v1/files URL as an object URL (null while loading). */
export function useAuthedImage(url: string): { src: string | null; failed: boolean } {
  const store = useStore<RootState>();
  const [state, setState] = useState<{ src: string | null; failed: boolean }>({ src: null, failed: false });
  useEffect(() => {
    let live = true;
    let p = objectUrls.get(url);
    if (!p) {
      p = (async () => {
        const get = () =>
          fetch(url, {
            headers: { Authorization: `Bearer ${store.getState().auth.accessToken ?? ''}` },
            credentials: 'same-origin',
          });
        let res = await get();
        if (res.status === 401 && (await refreshSession(store.dispatch as AppDispatch)) === 'ok') res = await get();
        if (!res.ok) throw new Error(`file ${res.status}`);
        return URL.createObjectURL(await res.blob());
      })();
      objectUrls.set(url, p);
      p.catch(() => objectUrls.delete(url));
    }
    p.then(
      (src) => live && setState({ src, failed: false }),
      () => live && setState({ src: null, failed: true }),
    );
    return () => {
      live = false;
    };
  }, [url, store]);
  return state;
}
