using System.Text;

namespace FineTuneAgent.Actors;

/// <summary>
/// The address of an actor in its system's hierarchy (<c>akka://system/user/parent/child</c>), as
/// Akka's ActorPath. <see cref="Uid"/> tells incarnations of the same path apart; path equality
/// ignores it, actor reference equality does not.
/// </summary>
public sealed class ActorPath : IEquatable<ActorPath>
{
    private ActorPath(string system, string name, ActorPath? parent, long uid)
    {
        System = system;
        Name = name;
        Parent = parent;
        Uid = uid;
    }

    /// <summary>The root path of a system, <c>akka://system/</c>.</summary>
    public static ActorPath Root(string system) => new(system, "", null, 0);

    public string System { get; }
    public string Name { get; }
    public ActorPath? Parent { get; }
    public long Uid { get; }

    /// <summary>The names from the root down to this path, without the root's empty name.</summary>
    public IReadOnlyList<string> Elements
    {
        get
        {
            var names = new List<string>();
            for (var p = this; p.Parent is not null; p = p.Parent)
            {
                names.Add(p.Name);
            }
            names.Reverse();
            return names;
        }
    }

    public ActorPath Child(string name) => new(System, name, this, 0);

    public ActorPath WithUid(long uid) => new(System, Name, Parent, uid);

    public static ActorPath operator /(ActorPath path, string name) => path.Child(name);

    public bool Equals(ActorPath? other)
    {
        if (ReferenceEquals(this, other))
        {
            return true;
        }
        if (other is null || other.Name != Name || other.System != System)
        {
            return false;
        }
        return Parent is null ? other.Parent is null : Parent.Equals(other.Parent);
    }

    public override bool Equals(object? obj) => Equals(obj as ActorPath);

    public override int GetHashCode() =>
        HashCode.Combine(System, Name, Parent is null ? 0 : Parent.GetHashCode());

    public override string ToString()
    {
        var text = new StringBuilder("akka://").Append(System);
        var elements = Elements;
        if (elements.Count == 0)
        {
            return text.Append('/').ToString();
        }
        foreach (var name in elements)
        {
            text.Append('/').Append(name);
        }
        return text.ToString();
    }

    /// <summary>The path with the uid, as Akka prints an actor reference: <c>akka://s/user/a#42</c>.</summary>
    public string ToStringWithUid() => Uid == 0 ? ToString() : $"{this}#{Uid}";
}
