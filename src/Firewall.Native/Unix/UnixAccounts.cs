namespace Firewall.Native.Unix;

/// <summary>Group lookup (through NSS, like getent group), ownership of files, this process's ids.</summary>
public static class UnixAccounts
{
    public static uint EffectiveUserId => Interop.Accounts.GetEffectiveUserId();

    public static uint EffectiveGroupId => Interop.Accounts.GetEffectiveGroupId();

    /// <summary>The gid of group <paramref name="name"/>, or null when there is no such group.</summary>
    public static unsafe uint? TryGetGroupId(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        for (int size = 4096; size <= 1 << 20; size *= 4)
        {
            byte[] buffer = new byte[size];
            Interop.Accounts.Group group;
            Interop.Accounts.Group* result = null;
            int rc;
            fixed (byte* b = buffer) rc = Interop.Accounts.GetGroupByName(name, &group, b, (nuint)size, &result);
            if (rc == 34 /* ERANGE */) continue;
            if (rc != 0 || result == null) return null;
            return group.Gid;
        }
        return null;
    }

    /// <summary>chown(path, -1 or uid, gid).</summary>
    public static void SetOwner(string path, uint? uid, uint gid)
    {
        if (Interop.Accounts.Chown(path, uid ?? uint.MaxValue, gid) != 0) NativeException.ThrowLast($"chown {path}");
    }
}
