import { createContext, useContext } from 'react';

/** What pages need from the app shell: whether the sidebar is a drawer, and how to open it. */
export interface ShellContextValue {
  compact: boolean;
  openNav: () => void;
}

export const ShellContext = createContext<ShellContextValue>({ compact: false, openNav: () => undefined });

export const useShell = () => useContext(ShellContext);
