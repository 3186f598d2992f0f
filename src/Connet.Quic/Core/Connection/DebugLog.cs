namespace Connet.Quic.Core.Connection;

internal static class DebugLog
{
    public static void Write(string message) => File.AppendAllText("/tmp/qdebug.log", message + "\n");
}
