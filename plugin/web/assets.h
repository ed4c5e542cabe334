/*
 * assets.h - the panel's static files, built into the program from
 * panel.css and panel.js (assets.sh writes assets.c), so the panel
 * serves them with nothing to install or find.
 */
#ifndef CRIER_ASSETS_H
#define CRIER_ASSETS_H

extern const char asset_panel_css[];
extern const char asset_panel_js[];

#endif
