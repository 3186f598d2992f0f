namespace Connet.Quic.Tests.Crypto;

/// <summary>Parses hex as the RFCs print it: spaces and line breaks allowed.</summary>
internal static class Hex
{
    public static byte[] Bytes(string hex) =>
        Convert.FromHexString(string.Concat(hex.Where(c => !char.IsWhiteSpace(c))));
}
