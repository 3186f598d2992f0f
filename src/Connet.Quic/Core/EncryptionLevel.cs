namespace Connet.Quic.Core;

/// <summary>
/// The TLS encryption levels QUIC carries handshake data at; each but 0-RTT has its own packet number space
/// (1-RTT and the unused 0-RTT share the application space). Values index per-space arrays.
/// </summary>
internal enum EncryptionLevel
{
    Initial = 0,
    Handshake = 1,
    OneRtt = 2,
}
