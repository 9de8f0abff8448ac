/* protocol.h - the names of PostgreSQL protocol 3.0's message types, as PostgreSQL's
 * own libpq/protocol.h and PgBouncer's include/common/protocol.h spell them. Both sides
 * of the seam use them (pgwire/ frames and switches on the frontend ones, pgexec/ writes
 * the backend ones), so they live with the executor's front door, which pgwire/ may
 * include and which includes nothing of pgwire/. */
#ifndef DS_PGX_PROTOCOL_H
#define DS_PGX_PROTOCOL_H

/* Frontend (client to server). */
#define PqMsg_Bind 'B'
#define PqMsg_Close 'C'
#define PqMsg_Describe 'D'
#define PqMsg_Execute 'E'
#define PqMsg_FunctionCall 'F'
#define PqMsg_Flush 'H'
#define PqMsg_Parse 'P'
#define PqMsg_Query 'Q'
#define PqMsg_Sync 'S'
#define PqMsg_Terminate 'X'
#define PqMsg_CopyFail 'f'
#define PqMsg_GSSResponse 'p'
#define PqMsg_PasswordMessage 'p'
#define PqMsg_SASLInitialResponse 'p'
#define PqMsg_SASLResponse 'p'

/* Shared by both directions. */
#define PqMsg_CopyDone 'c'
#define PqMsg_CopyData 'd'

/* Backend (server to client). */
#define PqMsg_ParseComplete '1'
#define PqMsg_BindComplete '2'
#define PqMsg_CloseComplete '3'
#define PqMsg_NotificationResponse 'A'
#define PqMsg_CommandComplete 'C'
#define PqMsg_DataRow 'D'
#define PqMsg_ErrorResponse 'E'
#define PqMsg_CopyInResponse 'G'
#define PqMsg_CopyOutResponse 'H'
#define PqMsg_EmptyQueryResponse 'I'
#define PqMsg_BackendKeyData 'K'
#define PqMsg_NoticeResponse 'N'
#define PqMsg_AuthenticationRequest 'R'
#define PqMsg_ParameterStatus 'S'
#define PqMsg_RowDescription 'T'
#define PqMsg_FunctionCallResponse 'V'
#define PqMsg_CopyBothResponse 'W'
#define PqMsg_ReadyForQuery 'Z'
#define PqMsg_NoData 'n'
#define PqMsg_PortalSuspended 's'
#define PqMsg_ParameterDescription 't'
#define PqMsg_NegotiateProtocolVersion 'v'

/* What Describe and Close name (their first body byte). */
#define PqDescribe_Statement 'S'
#define PqDescribe_Portal 'P'

/* The transaction status in ReadyForQuery. */
#define PqTrans_Idle 'I'
#define PqTrans_InBlock 'T'
#define PqTrans_Failed 'E'

/* SSLRequest / GSSENCRequest answers (single bytes, not messages). */
#define PqSSL_Accept 'S'
#define PqSSL_Refuse 'N'

#endif
