; medapp — the Windows installer schools get (NSIS 3, Unicode).
;
; Build machine (Windows, Python 3.12):  python packaging\build.py
;                                        makensis /DVERSION=0.1.0 packaging\windows\medapp.nsi
; Defines (all optional):  /DVERSION=x.y.z   /DBUNDLE=<folder with medapp.exe>
;                          /DOUTFILE=<setup.exe>   /DICON=<medapp.ico>   /DFAST (no compression, for CI)
;
; Per-machine install into Program Files, Start-menu and desktop shortcuts for every user.
; Installing over an existing medapp upgrades it in place: the running desks' private database
; servers are stopped first (a running postgres.exe locks the program folder), the old program
; files are removed, the new ones copied. Records live in each user's profile
; (%LOCALAPPDATA%\medapp) and are never touched, by an upgrade or by the uninstaller.

Unicode true
!include "MUI2.nsh"
!include "LogicLib.nsh"
!include "x64.nsh"

!ifndef VERSION
  !define VERSION "0.0.0"
!endif
!ifndef BUNDLE
  !define BUNDLE "..\..\dist\medapp"
!endif
!ifndef OUTFILE
  !define OUTFILE "..\..\dist\medapp-${VERSION}-setup.exe"
!endif
!ifndef ICON
  !define ICON "..\..\build\staging\medapp.ico"
!endif

!define APP "medapp"
!define PUBLISHER "School district IT"
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${APP}"

!ifdef FAST
  SetCompress off  ; CI only checks that the script compiles
!else
  SetCompressor /SOLID lzma
!endif

Name "${APP} ${VERSION}"
OutFile "${OUTFILE}"
InstallDir "$PROGRAMFILES64\${APP}"
InstallDirRegKey HKLM "${UNINST_KEY}" "InstallLocation"
RequestExecutionLevel admin
ShowInstDetails show
ShowUninstDetails show

!if /FileExists "${ICON}"
  !define MUI_ICON "${ICON}"
  !define MUI_UNICON "${ICON}"
!endif
!define MUI_ABORTWARNING
!define MUI_FINISHPAGE_RUN "$INSTDIR\medapp.exe"
!define MUI_FINISHPAGE_RUN_TEXT "Start medapp"

!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

VIProductVersion "${VERSION}.0"
VIAddVersionKey "ProductName" "${APP}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "FileDescription" "${APP} installer"
VIAddVersionKey "CompanyName" "${PUBLISHER}"
VIAddVersionKey "LegalCopyright" "${PUBLISHER}"

; Stop medapp and its private database servers that run from $INSTDIR:
; 1. "medapp-cli db stop" stops this account's servers cleanly (fast shutdown);
; 2. any postgres.exe / medapp*.exe still running *from this folder* (another user's desk) is
;    ended; PostgreSQL recovers from its log at that user's next start. Never touches a
;    PostgreSQL that is not medapp's (the path must be inside $INSTDIR).
!macro StopMedapp
  ${If} ${FileExists} "$INSTDIR\medapp-cli.exe"
    DetailPrint "Stopping medapp's private database server…"
    nsExec::ExecToLog '"$INSTDIR\medapp-cli.exe" db stop'
    Pop $0
  ${EndIf}
  nsExec::ExecToLog 'powershell.exe -NoProfile -ExecutionPolicy Bypass -Command "Get-Process -Name postgres,medapp,medapp-cli -ErrorAction SilentlyContinue | Where-Object { $$_.Path -like \"$INSTDIR\*\" } | Stop-Process -Force"'
  Pop $0
  Sleep 1000
!macroend

Function .onInit
  ${If} ${RunningX64}
    SetRegView 64
  ${EndIf}
  ; upgrade in place: the folder of the installed version, whatever the default
  ReadRegStr $0 HKLM "${UNINST_KEY}" "InstallLocation"
  ${If} $0 != ""
    StrCpy $INSTDIR $0
  ${EndIf}
FunctionEnd

Section "medapp" SecMain
  SectionIn RO
  SetShellVarContext all
  SetOutPath "$INSTDIR"
  ${If} ${FileExists} "$INSTDIR\_internal\*.*"
    DetailPrint "Upgrading the medapp in $INSTDIR"
    !insertmacro StopMedapp
    RMDir /r "$INSTDIR\_internal"  ; no file of the old version lingers
  ${EndIf}
  File /r "${BUNDLE}\*.*"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  CreateDirectory "$SMPROGRAMS\${APP}"
  CreateShortcut "$SMPROGRAMS\${APP}\medapp.lnk" "$INSTDIR\medapp.exe"
  CreateShortcut "$SMPROGRAMS\${APP}\medapp demo.lnk" "$INSTDIR\medapp.exe" "--demo"
  CreateShortcut "$SMPROGRAMS\${APP}\Uninstall medapp.lnk" "$INSTDIR\uninstall.exe"
  CreateShortcut "$DESKTOP\medapp.lnk" "$INSTDIR\medapp.exe"

  WriteRegStr HKLM "${UNINST_KEY}" "DisplayName" "${APP}"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINST_KEY}" "Publisher" "${PUBLISHER}"
  WriteRegStr HKLM "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\medapp.exe"
  WriteRegStr HKLM "${UNINST_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKLM "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoRepair" 1
SectionEnd

Function un.onInit
  ${If} ${RunningX64}
    SetRegView 64
  ${EndIf}
FunctionEnd

Section "Uninstall"
  SetShellVarContext all
  !insertmacro StopMedapp
  Delete "$DESKTOP\medapp.lnk"
  RMDir /r "$SMPROGRAMS\${APP}"
  RMDir /r "$INSTDIR\_internal"
  Delete "$INSTDIR\medapp.exe"
  Delete "$INSTDIR\medapp-cli.exe"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  DeleteRegKey HKLM "${UNINST_KEY}"
  ; each user's records (%LOCALAPPDATA%\medapp) stay: they are that school's records
SectionEnd
